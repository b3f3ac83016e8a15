// Command grpc-peer is a Go gRPC server (google.golang.org/grpc, the stack Thanos uses) that
// replays pre-encoded thanos.Store / thanos.info.Info responses. Tests use it as a non-Node peer:
// the frames are written by Tessera's own encoders, this program never parses them.
//
// Usage: grpc-peer -frames DIR [-listen 127.0.0.1:0]
//
// DIR holds info.bin (thanos.info.Info/Info), store-info.bin (thanos.Store/Info),
// label-names.bin, label-values.bin (one message each) and series.bin (the Series stream: frames,
// each a 4-byte big-endian length then the message bytes). Every request gets the same answer,
// whatever it asks for. Once listening it prints "listening <address>" on stdout.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// rawCodec passes message bytes through unchanged.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("raw codec: cannot marshal %T", v)
	}
	return *b, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("raw codec: cannot unmarshal into %T", v)
	}
	*b = append((*b)[:0], data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

type peer struct {
	unary  map[string][]byte
	series [][]byte
}

func (p *peer) handle(_ any, stream grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(stream)
	var req []byte
	if err := stream.RecvMsg(&req); err != nil {
		return err
	}
	if method == "/thanos.Store/Series" {
		for i := range p.series {
			if err := stream.SendMsg(&p.series[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if msg, ok := p.unary[method]; ok {
		return stream.SendMsg(&msg)
	}
	return status.Errorf(codes.Unimplemented, "grpc-peer: method %s not served", method)
}

func load(dir string) (*peer, error) {
	p := &peer{unary: map[string][]byte{}}
	for method, file := range map[string]string{
		"/thanos.info.Info/Info":    "info.bin",
		"/thanos.Store/Info":        "store-info.bin",
		"/thanos.Store/LabelNames":  "label-names.bin",
		"/thanos.Store/LabelValues": "label-values.bin",
	} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return nil, err
		}
		p.unary[method] = b
	}
	b, err := os.ReadFile(filepath.Join(dir, "series.bin"))
	if err != nil {
		return nil, err
	}
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, fmt.Errorf("series.bin: truncated frame header")
		}
		n := binary.BigEndian.Uint32(b)
		if uint64(len(b)-4) < uint64(n) {
			return nil, fmt.Errorf("series.bin: truncated frame of %d bytes", n)
		}
		p.series = append(p.series, b[4:4+n])
		b = b[4+n:]
	}
	return p, nil
}

func main() {
	dir := flag.String("frames", "", "directory with the pre-encoded responses")
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	p, err := load(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "grpc-peer: load frames:", err)
		os.Exit(2)
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "grpc-peer: listen:", err)
		os.Exit(2)
	}
	srv := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(p.handle), grpc.MaxSendMsgSize(64<<20))
	fmt.Printf("listening %s (%d series frames)\n", lis.Addr(), len(p.series))
	if err := srv.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, "grpc-peer: serve:", err)
		os.Exit(1)
	}
}

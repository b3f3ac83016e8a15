// Writes snappy framing-format streams produced by klauspost/compress/snappy, used as test fixtures.
package main

import (
	"bytes"
	"os"

	"github.com/klauspost/compress/snappy"
)

func write(name string, data []byte) {
	var buf bytes.Buffer
	w := snappy.NewBufferedWriter(&buf)
	if _, err := w.Write(data); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		panic(err)
	}
}

func main() {
	write("hello.sz", []byte("hello"))
	big := make([]byte, 150000)
	for i := range big {
		big[i] = byte(i % 7)
	}
	write("mod7-150000.sz", big)
}

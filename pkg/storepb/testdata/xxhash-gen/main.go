// Prints xxHash64 (seed 0) of deterministic inputs, as computed by github.com/cespare/xxhash/v2
// (the implementation Thanos uses for chunk hashes and series sharding), as JSON fixtures.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/cespare/xxhash/v2"
)

func main() {
	out := map[string]string{}
	for _, n := range []int{0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 31, 32, 33, 63, 64, 65, 100, 1000, 4099} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte((i*131 + 7) % 251)
		}
		out[fmt.Sprint(n)] = fmt.Sprintf("%016x", xxhash.Sum64(b))
	}
	out["labels"] = fmt.Sprintf("%016x", xxhash.Sum64String("__name__\xffup\xffjob\xffapi\xff"))
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
}

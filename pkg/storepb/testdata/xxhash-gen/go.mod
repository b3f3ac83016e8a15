module xxgen

go 1.21

require github.com/cespare/xxhash/v2 v2.3.0

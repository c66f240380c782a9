module cpprof.test/testserver

go 1.19

// google.golang.org/protobuf (and what its go.mod names) come from
// Debian's golang-google-protobuf-dev, golang-github-golang-protobuf-1-3-dev
// and golang-github-google-go-cmp-dev sources: there is no module proxy
// here. Directory replacements need no go.sum.
require google.golang.org/protobuf v1.28.1

replace (
	github.com/golang/protobuf => /usr/share/gocode/src/github.com/golang/protobuf
	github.com/google/go-cmp => /usr/share/gocode/src/github.com/google/go-cmp
	google.golang.org/protobuf => /usr/share/gocode/src/google.golang.org/protobuf
)

module cpprof.test/testserver

go 1.19

// Debian's Go sources, not a module proxy (there is none here):
// github.com/gogo/protobuf (golang-github-gogo-protobuf-dev) for the
// generated code in corepb/, and google.golang.org/protobuf (with what its
// go.mod names: golang-github-golang-protobuf-1-3-dev,
// golang-github-google-go-cmp-dev) whose protowire the unit tests use as an
// independent decoder. Directory replacements need no go.sum.
require (
	github.com/gogo/protobuf v1.3.2
	google.golang.org/protobuf v1.28.1
)

replace (
	github.com/gogo/protobuf => /usr/share/gocode/src/github.com/gogo/protobuf
	github.com/golang/protobuf => /usr/share/gocode/src/github.com/golang/protobuf
	github.com/google/go-cmp => /usr/share/gocode/src/github.com/google/go-cmp
	google.golang.org/protobuf => /usr/share/gocode/src/google.golang.org/protobuf
)

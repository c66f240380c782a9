// gen_offsets prints the field offsets cpprof's BPF programs read from Go
// structs (net/http.Request.Method and .URL, net/url.URL.Path and
// .RawQuery), one line per Go minor version:
//
//	<minor> <request_method> <request_url> <url_path> <url_rawquery> <how>
//
// With -reflect it asks the toolchain that runs it (reflect field offsets
// of the real types). With -src DIR it lays out the struct excerpts in DIR
// (request.go.txt, url.go.txt, copied from golang/go for releases newer or
// older than the installed toolchains) with go/types and the gc/amd64
// sizes, which is what the gc compiler does. Standard library only.
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
)

func minorOf(v string) string {
	m := regexp.MustCompile(`go1\.(\d+)`).FindStringSubmatch(v)
	if m == nil {
		fmt.Fprintf(os.Stderr, "gen_offsets: cannot parse Go version '%s'\n", v)
		os.Exit(1)
	}
	return m[1]
}

func field(t reflect.Type, name string) uintptr {
	f, ok := t.FieldByName(name)
	if !ok {
		fmt.Fprintf(os.Stderr, "gen_offsets: %s has no field '%s'\n", t, name)
		os.Exit(1)
	}
	return f.Offset
}

func fromReflect() {
	rq := reflect.TypeOf(http.Request{})
	u := reflect.TypeOf(url.URL{})
	fmt.Printf("%s %d %d %d %d reflect/%s\n", minorOf(runtime.Version()),
		field(rq, "Method"), field(rq, "URL"), field(u, "Path"), field(u, "RawQuery"),
		runtime.Version())
}

// load reads one excerpt; its "//" header lines (where the text comes from)
// are Go comments, so the parser skips them.
func load(dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		fmt.Fprintf(os.Stderr, "gen_offsets: %v\n", err)
		os.Exit(1)
	}
	return string(b)
}

func fromSource(dir string) {
	// Both excerpts go into one package: url.URL becomes URL, and
	// Userinfo (only ever used through a pointer) is declared empty.
	src := "package excerpt\n\ntype Userinfo struct{}\n\n" + load(dir, "url.go.txt") + "\n" +
		strings.ReplaceAll(load(dir, "request.go.txt"), "*url.URL", "*URL")
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "excerpt.go", src, parser.ParseComments)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gen_offsets: %s: %v\n", dir, err)
		os.Exit(1)
	}
	sizes := types.SizesFor("gc", "amd64")
	conf := types.Config{Sizes: sizes, Importer: importer.Default()}
	pkg, err := conf.Check("excerpt", fset, []*ast.File{f}, nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gen_offsets: %s: %v\n", dir, err)
		os.Exit(1)
	}
	off := func(typ, name string) int64 {
		st := pkg.Scope().Lookup(typ).Type().Underlying().(*types.Struct)
		var fields []*types.Var
		for i := 0; i < st.NumFields(); i++ {
			fields = append(fields, st.Field(i))
		}
		offs := sizes.Offsetsof(fields)
		for i, fv := range fields {
			if fv.Name() == name {
				return offs[i]
			}
		}
		fmt.Fprintf(os.Stderr, "gen_offsets: %s: %s has no field '%s'\n", dir, typ, name)
		os.Exit(1)
		return 0
	}
	fmt.Printf("%s %d %d %d %d source/%s\n", minorOf(filepath.Base(dir)),
		off("Request", "Method"), off("Request", "URL"), off("URL", "Path"), off("URL", "RawQuery"),
		filepath.Base(dir))
}

func main() {
	refl := flag.Bool("reflect", false, "report the offsets of the running toolchain")
	src := flag.String("src", "", "lay out the struct excerpts in this directory")
	flag.Parse()
	switch {
	case *refl:
		fromReflect()
	case *src != "":
		fromSource(*src)
	default:
		fmt.Fprintln(os.Stderr, "usage: gen_offsets -reflect | -src DIR")
		os.Exit(2)
	}
}

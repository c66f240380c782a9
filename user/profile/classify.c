// SPDX-License-Identifier: MIT
/*
 * classify: which kind of work a CPU sample of kube-apiserver or etcd was
 * doing, decided from the function names on its stack.
 *
 * How a stack is decided (classify__stack):
 *
 *  1. Any kernel frame: syscall. The sampler records a kernel stack only
 *     when the CPU was in the kernel, and that CPU was burned there, on
 *     behalf of whatever user code is above (a write(2) under crypto/tls
 *     under http2 is syscall time, not tls time). Page faults and
 *     interrupts charged to the target count here too.
 *  2. Otherwise the user frames are walked from the leaf outward and the
 *     first (innermost) frame that matches a STRONG rule decides: the CPU
 *     was spent in that code, even when it is nested in other categories
 *     (flate under json under http2 is gzip; json inside yaml.YAMLToJSON
 *     is json).
 *  3. WEAK rules only decide when no frame further out matches a strong
 *     rule. Two kinds are weak:
 *     - allocation (runtime.mallocgc, growslice, makeslice, rawstring...):
 *       memory allocated by a serializer is part of what serializing costs,
 *       which is how pprof users read a profile (mallocgc under
 *       encoding/json is json's cost), and what protobuf-vs-JSON saved in
 *       Kubernetes 1.3. Allocation outside any category is gc ("runtime
 *       GC and allocation"). GC *work* is strong and always gc, wherever it
 *       runs: background mark workers, sweeping, scavenging, and the mark
 *       assists that mallocgc runs (gcAssistAlloc/gcDrainN): that is the
 *       collector's work, the part GOGC tunes.
 *     - encoding/json's scanner (checkValid, scanner.step, state*): it
 *       runs in Unmarshal, but also in Marshal when a MarshalJSON result
 *       is validated (compact), so it is decode unless an encode frame is
 *       further out.
 *  4. STOP rules mark where a request's handler starts (k8s.io/apiserver's
 *     handlers and registry, the routers, net/http's serverHandler): the
 *     walk ends there, as if nothing further out were on the stack. The
 *     filter chain and HTTP/2's stream goroutines are further out than all
 *     of a request's work; a filter (authentication, http_filters...)
 *     decides only for samples in the filter itself.
 *  5. Nothing matched: unknown if the leaf was not symbolized (the work
 *     might have been anything), else other.
 *
 * Names are matched after normalisation: generic type arguments ("[...]",
 * "[go.shape.int]") are removed, vendored paths lose everything up to
 * "vendor/" (k8s.io/kubernetes/vendor/github.com/gogo/..., Go's own
 * vendor/golang.org/x/net/http2/hpack), and sigs.k8s.io/json's fork of
 * encoding/json is matched as encoding/json. Closures (F.func1) and
 * methods keep their function's prefix, so they match with it; inlined
 * frames have the same names as real ones.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "classify.h"

static const char *const cat_names[CAT__COUNT] = {
	[CAT_JSON_ENCODE] = "json_encode",
	[CAT_JSON_DECODE] = "json_decode",
	[CAT_PROTOBUF_ENCODE] = "protobuf_encode",
	[CAT_PROTOBUF_DECODE] = "protobuf_decode",
	[CAT_YAML] = "yaml",
	[CAT_GZIP] = "gzip",
	[CAT_TLS] = "tls",
	[CAT_HTTP2] = "http2",
	[CAT_GRPC] = "grpc",
	[CAT_ETCD_STORAGE] = "etcd_storage",
	[CAT_CBOR_ENCODE] = "cbor_encode",
	[CAT_CBOR_DECODE] = "cbor_decode",
	[CAT_AUTHENTICATION] = "authentication",
	[CAT_AUTHORIZATION] = "authorization",
	[CAT_ADMISSION] = "admission",
	[CAT_VALIDATION] = "validation",
	[CAT_CONVERSION] = "conversion",
	[CAT_WATCH_CACHE] = "watch_cache",
	[CAT_ETCD_CLIENT] = "etcd_client",
	[CAT_HTTP_FILTERS] = "http_filters",
	[CAT_GC] = "gc",
	[CAT_SYSCALL] = "syscall",
	[CAT_OTHER] = "other",
	[CAT_UNKNOWN] = "unknown",
};

enum match {
	PKG,     /* name is in package PAT: PAT then '.' or '/' (subpackages too) */
	PREFIX,  /* name starts with PAT */
	EXACT,   /* name is PAT */
	PKGSUB,  /* in package PAT (not subpackages), and SUB occurs after the package */
	PBMETH,  /* a method PAT (".(*T).Marshal" ends with ").Marshal") in a protobuf package */
	PBFUNC,  /* a function whose name starts with PAT in a protobuf package */
	FUNCPFX, /* a plain function (not a method), any package, whose name starts with PAT */
	PKGLAST, /* in a package whose last path element is PAT (".../core/validation") */
};

struct rule {
	enum cpu_category cat;
	enum match kind;
	const char *pat;
	const char *sub;  /* PKGSUB only */
	bool weak;
	bool stop;        /* the end of the search: frames further out are not looked at */
	const char *why;
};

#define R(c, k, p, w)       { CAT_##c, k, p, NULL, false, false, w }
#define RS(c, p, s, w)      { CAT_##c, PKGSUB, p, s, false, false, w }
#define WEAK(c, k, p, w)    { CAT_##c, k, p, NULL, true, false, w }
#define WEAKS(c, p, s, w)   { CAT_##c, PKGSUB, p, s, true, false, w }
#define STOP(k, p, w)       { CAT_OTHER, k, p, NULL, false, true, w }

/*
 * The rules, tried in order for each frame: the first rule that matches
 * a frame gives that frame's category, so specific rules come before the
 * general ones (decode before encode where "Unmarshal" contains
 * "marshal"; serializer packages before the generic protobuf method names).
 */
static const struct rule rules[] = {
	/* --- syscall: the user side of a system call ------------------------ */
	R(SYSCALL, PKG, "syscall", "syscall.Syscall, RawSyscall, write/read wrappers"),
	R(SYSCALL, PKG, "internal/poll", "net and os reads/writes are this package plus a syscall"),
	R(SYSCALL, PKG, "internal/syscall/unix", "newer syscall wrappers"),
	R(SYSCALL, PKG, "internal/runtime/syscall", "Go 1.23+: the runtime's Syscall6 and EpollWait"),
	R(SYSCALL, PKG, "runtime/internal/syscall", "Go 1.19-1.22: the runtime's Syscall6"),
	R(SYSCALL, PKG, "golang.org/x/sys/unix", "x/sys syscall wrappers"),
	R(SYSCALL, PREFIX, "runtime.futex", "runtime locks and notes sleep/wake in futex(2)"),
	R(SYSCALL, PREFIX, "runtime.epoll", "the netpoller: epoll_wait/epoll_ctl"),
	R(SYSCALL, EXACT, "runtime.usleep", "usleep is nanosleep(2)"),
	R(SYSCALL, EXACT, "runtime.osyield", "sched_yield(2)"),
	R(SYSCALL, EXACT, "runtime.write1", "runtime writes (netpoll break, traces)"),
	R(SYSCALL, EXACT, "runtime.write", "runtime writes"),
	R(SYSCALL, EXACT, "runtime.read", "runtime reads"),
	R(SYSCALL, EXACT, "runtime.madvise", "returning memory to the OS"),
	R(SYSCALL, EXACT, "runtime.mmap", "mapping memory"),
	R(SYSCALL, EXACT, "runtime.sysMmap", "mapping memory"),
	R(SYSCALL, EXACT, "runtime.munmap", "unmapping memory"),
	R(SYSCALL, EXACT, "runtime.tgkill", "preemption signals"),
	R(SYSCALL, EXACT, "runtime.rtsigprocmask", "signal masks"),
	R(SYSCALL, EXACT, "runtime.sigaltstack", "signal stacks"),
	R(SYSCALL, EXACT, "runtime.clone", "thread creation"),
	R(SYSCALL, EXACT, "runtime.nanosleep", "sleeping"),
	R(SYSCALL, EXACT, "runtime.timer_settime", "per-thread profiling timers"),
	R(SYSCALL, EXACT, "runtime.setitimer", "profiling timer"),
	R(SYSCALL, EXACT, "syscall", "glibc's syscall(3) in cgo programs"),
	R(SYSCALL, EXACT, "read", "glibc wrappers (cgo, C libraries)"),
	R(SYSCALL, EXACT, "write", "glibc wrappers"),
	R(SYSCALL, EXACT, "__read", "glibc wrappers"),
	R(SYSCALL, EXACT, "__write", "glibc wrappers"),
	R(SYSCALL, EXACT, "__libc_read", "glibc wrappers"),
	R(SYSCALL, EXACT, "__libc_write", "glibc wrappers"),
	R(SYSCALL, EXACT, "writev", "glibc wrappers"),
	R(SYSCALL, EXACT, "readv", "glibc wrappers"),
	R(SYSCALL, EXACT, "sendmsg", "glibc wrappers"),
	R(SYSCALL, EXACT, "recvmsg", "glibc wrappers"),
	R(SYSCALL, EXACT, "sendto", "glibc wrappers"),
	R(SYSCALL, EXACT, "recvfrom", "glibc wrappers"),
	R(SYSCALL, EXACT, "epoll_wait", "glibc wrappers"),
	R(SYSCALL, EXACT, "epoll_pwait", "glibc wrappers"),
	R(SYSCALL, EXACT, "poll", "glibc wrappers"),
	R(SYSCALL, EXACT, "__poll", "glibc wrappers"),
	R(SYSCALL, EXACT, "fsync", "glibc wrappers"),
	R(SYSCALL, EXACT, "fdatasync", "glibc wrappers"),
	R(SYSCALL, EXACT, "pread64", "glibc wrappers"),
	R(SYSCALL, EXACT, "pwrite64", "glibc wrappers"),
	R(SYSCALL, EXACT, "nanosleep", "glibc wrappers"),
	R(SYSCALL, EXACT, "clock_nanosleep", "glibc wrappers"),
	R(SYSCALL, EXACT, "__futex_abstimed_wait_common", "glibc's futex wait (pthread locks)"),

	/* --- gc: the collector's work (strong) ------------------------------- */
	R(GC, PREFIX, "runtime.gcBgMarkWorker", "background mark workers"),
	R(GC, PREFIX, "runtime.gcDrain", "mark work, background or assist (gcDrainN)"),
	R(GC, PREFIX, "runtime.gcAssist", "mark assists charged to allocating goroutines"),
	R(GC, PREFIX, "runtime.gcFlushBgCredit", "assist credit bookkeeping"),
	R(GC, PREFIX, "runtime.markroot", "root marking (stacks, globals, spans)"),
	R(GC, PREFIX, "runtime.scanobject", "heap scanning"),
	R(GC, PREFIX, "runtime.scanblock", "heap scanning"),
	R(GC, PREFIX, "runtime.scanstack", "stack scanning"),
	R(GC, PREFIX, "runtime.scanframeworker", "stack scanning"),
	R(GC, PREFIX, "runtime.scanConservative", "stack scanning"),
	R(GC, PREFIX, "runtime.scanSpan", "Go 1.25 span scanning"),
	R(GC, PREFIX, "runtime.greyobject", "marking"),
	R(GC, PREFIX, "runtime.findObject", "marking"),
	R(GC, PREFIX, "runtime.(*gcWork)", "mark work queues"),
	R(GC, PREFIX, "runtime.(*gcBits)", "mark bits"),
	R(GC, PREFIX, "runtime.(*gcControllerState)", "GC pacing"),
	R(GC, PREFIX, "runtime.gcMark", "gcMarkDone, gcMarkTermination, gcMarkRootPrepare"),
	R(GC, PREFIX, "runtime.gcStart", "starting a cycle"),
	R(GC, PREFIX, "runtime.gcSweep", "sweep setup"),
	R(GC, PREFIX, "runtime.gcResetMarkState", "cycle setup"),
	R(GC, PREFIX, "runtime.gcWriteBarrier", "write barrier buffer flushes"),
	R(GC, PREFIX, "runtime.wbBufFlush", "write barrier buffer flushes"),
	R(GC, PREFIX, "runtime.bulkBarrier", "write barriers of bulk copies"),
	R(GC, PREFIX, "runtime.bgsweep", "background sweeper"),
	R(GC, PREFIX, "runtime.sweepone", "sweeping"),
	R(GC, PREFIX, "runtime.(*sweepLocked)", "sweeping"),
	R(GC, PREFIX, "runtime.(*mspan).sweep", "sweeping"),
	R(GC, PREFIX, "runtime.(*mheap).reclaim", "sweeping to reclaim pages"),
	R(GC, PREFIX, "runtime.bgscavenge", "background scavenger"),
	R(GC, PREFIX, "runtime.(*scavengerState)", "scavenger"),
	R(GC, PREFIX, "runtime.(*pageAlloc).scavenge", "scavenging"),
	R(GC, PREFIX, "runtime.freeSomeWbufs", "mark buffer release"),
	R(GC, EXACT, "runtime.GC", "explicit collections"),

	/* --- gc, weak: allocation is charged to the category that allocates -- */
	WEAK(GC, PREFIX, "runtime.mallocgc", "allocation (mallocgc, 1.24's mallocgcSmall*...)"),
	WEAK(GC, PREFIX, "runtime.newobject", "new(T)"),
	WEAK(GC, PREFIX, "runtime.newarray", "arrays"),
	WEAK(GC, PREFIX, "runtime.makeslice", "make([]T), makeslicecopy"),
	WEAK(GC, PREFIX, "runtime.growslice", "append"),
	WEAK(GC, PREFIX, "runtime.makemap", "make(map)"),
	WEAK(GC, PREFIX, "runtime.makechan", "make(chan)"),
	WEAK(GC, PREFIX, "runtime.rawstring", "string building"),
	WEAK(GC, PREFIX, "runtime.rawbyteslice", "[]byte(string)"),
	WEAK(GC, PREFIX, "runtime.rawruneslice", "[]rune(string)"),
	WEAK(GC, PREFIX, "runtime.slicebytetostring", "string([]byte)"),
	WEAK(GC, PREFIX, "runtime.stringtoslice", "[]byte(string)"),
	WEAK(GC, PREFIX, "runtime.concatstring", "s1 + s2"),
	WEAK(GC, PREFIX, "runtime.convT", "interface conversions that allocate"),
	WEAK(GC, PREFIX, "runtime.(*mcache)", "refilling per-P caches"),
	WEAK(GC, PREFIX, "runtime.(*mcentral)", "refilling spans"),
	WEAK(GC, PREFIX, "runtime.(*mheap).alloc", "allocating spans"),
	WEAK(GC, PREFIX, "runtime.(*mspan).nextFreeIndex", "finding free slots"),
	WEAK(GC, PREFIX, "runtime.nextFreeFast", "finding free slots"),
	WEAK(GC, PREFIX, "runtime.heapBitsSetType", "pointer bitmaps of new objects"),
	WEAK(GC, PREFIX, "runtime.heapSetType", "pointer bitmaps of new objects (1.22+)"),
	WEAK(GC, PREFIX, "runtime.deductAssistCredit", "allocation's assist bookkeeping"),
	WEAK(GC, PREFIX, "runtime.profilealloc", "allocation profiling"),
	WEAK(GC, PREFIX, "runtime.mProf_Malloc", "allocation profiling"),

	/* --- JSON --------------------------------------------------------- */
	/* encoding/json, and sigs.k8s.io/json's fork of it (normalised to encoding/json) */
	R(JSON_DECODE, PREFIX, "encoding/json.Unmarshal", "Unmarshal and its closures"),
	R(JSON_DECODE, PREFIX, "encoding/json.(*decodeState)", "the decoder proper"),
	R(JSON_DECODE, PREFIX, "encoding/json.(*Decoder)", "streaming Decode, readValue, refill, Token"),
	R(JSON_DECODE, PREFIX, "encoding/json.NewDecoder", "streaming decoder"),
	R(JSON_DECODE, PREFIX, "encoding/json.unquote", "string literals of the input"),
	R(JSON_DECODE, PREFIX, "encoding/json.getu4", "\\u escapes of the input"),
	R(JSON_DECODE, PREFIX, "encoding/json.indirect", "allocating targets while decoding"),
	R(JSON_DECODE, PREFIX, "encoding/json.(*Number)", "number literals"),
	R(JSON_DECODE, PREFIX, "encoding/json.(*UnmarshalTypeError)", "decode errors"),
	WEAK(JSON_DECODE, PREFIX, "encoding/json.checkValid", "scanner: decode unless under an encoder (compact)"),
	WEAK(JSON_DECODE, PREFIX, "encoding/json.Valid", "scanner"),
	WEAK(JSON_DECODE, PREFIX, "encoding/json.(*scanner)", "scanner"),
	WEAK(JSON_DECODE, PREFIX, "encoding/json.state", "scanner state functions (stateInString...)"),
	WEAK(JSON_DECODE, PREFIX, "encoding/json.newScanner", "scanner"),
	WEAK(JSON_DECODE, PREFIX, "encoding/json.freeScanner", "scanner"),
	WEAK(JSON_DECODE, PREFIX, "encoding/json.isSpace", "scanner"),
	R(JSON_ENCODE, PREFIX, "encoding/json.Marshal", "Marshal, MarshalIndent and their closures"),
	R(JSON_ENCODE, PREFIX, "encoding/json.(*encodeState)", "the encoder proper"),
	R(JSON_ENCODE, PREFIX, "encoding/json.newEncodeState", "encoder setup"),
	RS(JSON_ENCODE, "encoding/json", "Encoder", "(*Encoder).Encode, structEncoder.encode, typeEncoder..."),
	R(JSON_ENCODE, PREFIX, "encoding/json.compact", "re-validating MarshalJSON output"),
	R(JSON_ENCODE, PREFIX, "encoding/json.Compact", "compaction"),
	R(JSON_ENCODE, PREFIX, "encoding/json.appendCompact", "compaction (1.21+)"),
	R(JSON_ENCODE, PREFIX, "encoding/json.Indent", "indentation"),
	R(JSON_ENCODE, PREFIX, "encoding/json.appendIndent", "indentation (1.21+)"),
	R(JSON_ENCODE, PREFIX, "encoding/json.HTMLEscape", "escaping output"),
	R(JSON_ENCODE, PREFIX, "encoding/json.appendHTMLEscape", "escaping output"),
	R(JSON_ENCODE, PREFIX, "encoding/json.appendString", "string output (1.21+)"),
	R(JSON_ENCODE, PREFIX, "encoding/json.isValidNumber", "json.Number output"),
	R(JSON_ENCODE, PREFIX, "encoding/json.resolveKeyName", "map key output"),
	R(JSON_ENCODE, PREFIX, "encoding/json.(*reflectWithString)", "map key output"),
	/* Go 1.25's encoding/json/v2 and jsontext */
	RS(JSON_DECODE, "encoding/json/v2", "nmarshal", "json/v2 Unmarshal*"),
	RS(JSON_ENCODE, "encoding/json/v2", "arshal", "json/v2 Marshal*"),
	RS(JSON_DECODE, "encoding/json/jsontext", "Decoder", "json/v2 token reader"),
	RS(JSON_ENCODE, "encoding/json/jsontext", "Encoder", "json/v2 token writer"),
	/* sigs.k8s.io/json's own entry points (Kubernetes 1.23+ decoding) */
	RS(JSON_DECODE, "sigs.k8s.io/json", "nmarshal", "UnmarshalCaseSensitivePreserveInts, UnmarshalStrict"),
	/* json-iterator: the apimachinery JSON serializer's engine before 1.23 */
	RS(JSON_DECODE, "github.com/json-iterator/go", "Decoder", "generated decoders"),
	RS(JSON_DECODE, "github.com/json-iterator/go", "(*Iterator)", "the reader"),
	RS(JSON_DECODE, "github.com/json-iterator/go", "nmarshal", "Unmarshal entry points"),
	RS(JSON_ENCODE, "github.com/json-iterator/go", "Encoder", "generated encoders"),
	RS(JSON_ENCODE, "github.com/json-iterator/go", "(*Stream)", "the writer"),
	RS(JSON_ENCODE, "github.com/json-iterator/go", "arshal", "Marshal entry points"),
	/* protojson: protobuf messages as JSON are JSON work */
	RS(JSON_DECODE, "google.golang.org/protobuf/encoding/protojson", "nmarshal", "protojson.Unmarshal"),
	RS(JSON_DECODE, "google.golang.org/protobuf/encoding/protojson", "decoder", "protojson decoder"),
	RS(JSON_ENCODE, "google.golang.org/protobuf/encoding/protojson", "arshal", "protojson.Marshal"),
	RS(JSON_ENCODE, "google.golang.org/protobuf/encoding/protojson", "encoder", "protojson encoder"),
	/* Kubernetes' JSON serializer; its own frames, around the engines above */
	RS(JSON_DECODE, "k8s.io/apimachinery/pkg/runtime/serializer/json", "Decode", "(*Serializer).Decode"),
	RS(JSON_DECODE, "k8s.io/apimachinery/pkg/runtime/serializer/json", "nmarshal", "(*Serializer).unmarshal"),
	RS(JSON_ENCODE, "k8s.io/apimachinery/pkg/runtime/serializer/json", "Encode", "(*Serializer).Encode, doEncode"),
	RS(JSON_ENCODE, "k8s.io/apimachinery/pkg/runtime/serializer/json", "arshal", "marshalling helpers"),

	/* --- YAML --------------------------------------------------------- */
	R(YAML, PKG, "sigs.k8s.io/yaml", "Kubernetes' YAML (and its goyaml.v2/v3 forks)"),
	R(YAML, PKG, "gopkg.in/yaml.v2", "go-yaml v2"),
	R(YAML, PKG, "gopkg.in/yaml.v3", "go-yaml v3"),
	R(YAML, PKG, "go.yaml.in/yaml", "go-yaml's new home (v2, v3, v4)"),
	R(YAML, PKG, "github.com/ghodss/yaml", "the YAML<->JSON bridge before sigs.k8s.io/yaml"),
	R(YAML, PKG, "github.com/go-yaml/yaml", "go-yaml by its GitHub path"),

	/* --- protobuf ------------------------------------------------------ */
	/* Kubernetes' protobuf serializer */
	RS(PROTOBUF_DECODE, "k8s.io/apimachinery/pkg/runtime/serializer/protobuf", "Decode", "(*Serializer).Decode"),
	RS(PROTOBUF_DECODE, "k8s.io/apimachinery/pkg/runtime/serializer/protobuf", "nmarshal", "unmarshalToObject"),
	RS(PROTOBUF_ENCODE, "k8s.io/apimachinery/pkg/runtime/serializer/protobuf", "Encode", "(*Serializer).Encode, doEncode"),
	RS(PROTOBUF_ENCODE, "k8s.io/apimachinery/pkg/runtime/serializer/protobuf", "arshal", "marshalling helpers"),
	/* gRPC's codec: protobuf work even though it lives in grpc */
	RS(PROTOBUF_DECODE, "google.golang.org/grpc/encoding/proto", "nmarshal", "codec.Unmarshal"),
	RS(PROTOBUF_ENCODE, "google.golang.org/grpc/encoding/proto", "arshal", "codec.Marshal"),
	/* google.golang.org/protobuf (APIv2) */
	RS(PROTOBUF_DECODE, "google.golang.org/protobuf/proto", "nmarshal", "proto.Unmarshal, UnmarshalOptions"),
	RS(PROTOBUF_ENCODE, "google.golang.org/protobuf/proto", "arshal", "proto.Marshal, MarshalOptions"),
	RS(PROTOBUF_ENCODE, "google.golang.org/protobuf/proto", "Size", "proto.Size, MarshalOptions.Size"),
	RS(PROTOBUF_DECODE, "google.golang.org/protobuf/internal/impl", "nmarshal", "(*MessageInfo).unmarshalPointer, legacyUnmarshal"),
	RS(PROTOBUF_DECODE, "google.golang.org/protobuf/internal/impl", "consume", "consumeMessageInfo, consumeString..."),
	RS(PROTOBUF_ENCODE, "google.golang.org/protobuf/internal/impl", "arshal", "(*MessageInfo).marshalAppendPointer"),
	RS(PROTOBUF_ENCODE, "google.golang.org/protobuf/internal/impl", "append", "appendMessageInfo, appendString..."),
	RS(PROTOBUF_ENCODE, "google.golang.org/protobuf/internal/impl", "size", "(*MessageInfo).sizePointer, sizeString..."),
	RS(PROTOBUF_DECODE, "google.golang.org/protobuf/encoding/protowire", "Consume", "wire reading"),
	RS(PROTOBUF_ENCODE, "google.golang.org/protobuf/encoding/protowire", "Append", "wire writing"),
	RS(PROTOBUF_ENCODE, "google.golang.org/protobuf/encoding/protowire", "Size", "wire sizes"),
	/* gogo/protobuf (Kubernetes, etcd) and golang/protobuf (APIv1) runtimes */
	RS(PROTOBUF_DECODE, "github.com/gogo/protobuf/proto", "nmarshal", "Unmarshal, (*unmarshalInfo)"),
	RS(PROTOBUF_DECODE, "github.com/gogo/protobuf/proto", "Decode", "(*Buffer).DecodeVarint..."),
	RS(PROTOBUF_DECODE, "github.com/gogo/protobuf/proto", "decode", "decoders"),
	RS(PROTOBUF_DECODE, "github.com/gogo/protobuf/proto", "consume", "decoders"),
	RS(PROTOBUF_ENCODE, "github.com/gogo/protobuf/proto", "arshal", "Marshal, (*marshalInfo)"),
	RS(PROTOBUF_ENCODE, "github.com/gogo/protobuf/proto", "Encode", "(*Buffer).EncodeVarint..."),
	RS(PROTOBUF_ENCODE, "github.com/gogo/protobuf/proto", "encode", "encoders"),
	RS(PROTOBUF_ENCODE, "github.com/gogo/protobuf/proto", "Size", "proto.Size"),
	RS(PROTOBUF_ENCODE, "github.com/gogo/protobuf/proto", "size", "sizers"),
	RS(PROTOBUF_ENCODE, "github.com/gogo/protobuf/proto", "append", "appenders"),
	RS(PROTOBUF_DECODE, "github.com/golang/protobuf/proto", "nmarshal", "APIv1 Unmarshal"),
	RS(PROTOBUF_DECODE, "github.com/golang/protobuf/proto", "Decode", "APIv1 (*Buffer).Decode*"),
	RS(PROTOBUF_ENCODE, "github.com/golang/protobuf/proto", "arshal", "APIv1 Marshal"),
	RS(PROTOBUF_ENCODE, "github.com/golang/protobuf/proto", "Encode", "APIv1 (*Buffer).Encode*"),
	RS(PROTOBUF_ENCODE, "github.com/golang/protobuf/proto", "Size", "APIv1 Size"),
	/*
	 * Generated gogo code (k8s.io/api/.../generated.pb.go, etcd's *pb
	 * packages): methods with these names, in a protobuf package (see
	 * pb_package()), so that os.(*fileStat).Size is not protobuf.
	 */
	R(PROTOBUF_DECODE, PBMETH, ").Unmarshal", "generated (*Pod).Unmarshal"),
	R(PROTOBUF_DECODE, PBMETH, ").XXX_Unmarshal", "generated golang/protobuf glue"),
	R(PROTOBUF_DECODE, PBFUNC, "skip", "generated skipGenerated, skipRpc"),
	R(PROTOBUF_ENCODE, PBMETH, ").Marshal", "generated (*Pod).Marshal"),
	R(PROTOBUF_ENCODE, PBMETH, ").MarshalTo", "generated (*Pod).MarshalTo"),
	R(PROTOBUF_ENCODE, PBMETH, ").MarshalToSizedBuffer", "generated (*Pod).MarshalToSizedBuffer"),
	R(PROTOBUF_ENCODE, PBMETH, ").Size", "generated (*Pod).Size"),
	R(PROTOBUF_ENCODE, PBMETH, ").ProtoSize", "generated gogo ProtoSize"),
	R(PROTOBUF_ENCODE, PBMETH, ").XXX_Marshal", "generated golang/protobuf glue"),
	R(PROTOBUF_ENCODE, PBMETH, ").XXX_Size", "generated golang/protobuf glue"),
	R(PROTOBUF_ENCODE, PBFUNC, "encodeVarint", "generated encodeVarintGenerated"),
	R(PROTOBUF_ENCODE, PBFUNC, "sov", "generated sovGenerated (varint size)"),
	R(PROTOBUF_ENCODE, PBFUNC, "soz", "generated sozGenerated (zigzag size)"),

	/* --- compression ------------------------------------------------------ */
	R(GZIP, PKG, "compress/gzip", "apiserver response compression"),
	R(GZIP, PKG, "compress/flate", "the deflate under gzip and zlib"),
	R(GZIP, PKG, "compress/zlib", "zlib streams"),
	R(GZIP, PKG, "github.com/klauspost/compress", "faster gzip/flate/zstd/snappy"),
	R(GZIP, PKG, "github.com/klauspost/pgzip", "parallel gzip"),
	R(GZIP, PKG, "github.com/golang/snappy", "snappy (etcd's snapshot compression)"),

	/* --- TLS: the protocol and the crypto it runs on ---------------------- */
	R(TLS, PKG, "crypto", "crypto/tls, aes, cipher, internal/..., x509, ecdsa, sha256..."),
	R(TLS, PKG, "golang.org/x/crypto", "x/crypto (chacha20poly1305, cryptobyte, ...) and Go's vendored copy"),
	R(TLS, PREFIX, "p256", "crypto/internal/fips140/nistec's assembly (p256MulInternal...), named without a package"),

	/* --- HTTP/2 ---------------------------------------------------------- */
	R(HTTP2, PREFIX, "net/http.(*http2", "net/http's bundled HTTP/2 (h2_bundle.go) methods"),
	R(HTTP2, PREFIX, "net/http.http2", "net/http's bundled HTTP/2 functions and value methods"),
	R(HTTP2, PKG, "golang.org/x/net/http2", "x/net/http2 and hpack, also Go's vendored hpack"),
	R(HTTP2, PKG, "net/http/internal/http2", "net/http's own HTTP/2 from Go 1.27 on (no longer bundled)"),

	/* --- gRPC ------------------------------------------------------------ */
	R(GRPC, PKG, "google.golang.org/grpc", "grpc-go: transport, server, stream handling"),
	R(GRPC, PKG, "github.com/grpc-ecosystem/go-grpc-middleware", "interceptors"),
	R(GRPC, PKG, "github.com/grpc-ecosystem/go-grpc-prometheus", "interceptors"),

	/* --- etcd storage: bbolt, WAL, MVCC, backend ---------------------------- */
	R(ETCD_STORAGE, PKG, "go.etcd.io/bbolt", "bbolt"),
	R(ETCD_STORAGE, PKG, "github.com/coreos/bbolt", "bbolt before go.etcd.io"),
	R(ETCD_STORAGE, PKG, "github.com/boltdb/bolt", "bolt"),
	R(ETCD_STORAGE, PKG, "go.etcd.io/etcd/server/v3/wal", "etcd 3.5 WAL"),
	R(ETCD_STORAGE, PKG, "go.etcd.io/etcd/server/v3/storage", "etcd 3.6 wal, mvcc, backend, schema"),
	R(ETCD_STORAGE, PKG, "go.etcd.io/etcd/server/v3/mvcc", "etcd 3.5 mvcc and backend"),
	R(ETCD_STORAGE, PKG, "go.etcd.io/etcd/server/v3/datadir", "data directory layout"),
	R(ETCD_STORAGE, PKG, "go.etcd.io/etcd/wal", "etcd 3.4 WAL"),
	R(ETCD_STORAGE, PKG, "go.etcd.io/etcd/mvcc", "etcd 3.4 mvcc and backend"),
	R(ETCD_STORAGE, PKG, "github.com/coreos/etcd/wal", "etcd 3.3 and older WAL"),
	R(ETCD_STORAGE, PKG, "github.com/coreos/etcd/mvcc", "etcd 3.3 and older mvcc"),

	/* --- CBOR: k8s.io/apimachinery's serializer over fxamacker/cbor ------- */
	/*
	 * Kubernetes 1.32+ (CBORServingAndStorage): requests and responses in
	 * application/cbor, and custom resources stored in etcd as CBOR. The
	 * engine's decoder is (*decoder), decMode and the Unmarshal/Valid/
	 * wellformed entry points; its encoder is encMode, encoderBuffer and
	 * the encodeX/encodeFuncs functions. In GOPATH builds the package is
	 * named without its /v2.
	 */
	RS(CBOR_DECODE, "github.com/fxamacker/cbor/v2", "decode", "(*decoder).parse..., decodeX"),
	RS(CBOR_DECODE, "github.com/fxamacker/cbor/v2", "Decode", "(*Decoder).Decode"),
	RS(CBOR_DECODE, "github.com/fxamacker/cbor/v2", "decMode", "(*decMode).Unmarshal, Valid"),
	RS(CBOR_DECODE, "github.com/fxamacker/cbor/v2", "nmarshal", "Unmarshal, UnmarshalFirst"),
	RS(CBOR_DECODE, "github.com/fxamacker/cbor/v2", "ellformed", "(*decoder).wellformed"),
	RS(CBOR_DECODE, "github.com/fxamacker/cbor/v2", "Valid", "Valid, (*decoder).wellformedInternal"),
	RS(CBOR_ENCODE, "github.com/fxamacker/cbor/v2", "ncode", "encodeStruct, encodeMap, (*encMode).encode..."),
	RS(CBOR_ENCODE, "github.com/fxamacker/cbor/v2", "encMode", "(*encMode).Marshal"),
	RS(CBOR_ENCODE, "github.com/fxamacker/cbor/v2", "arshal", "Marshal"),
	RS(CBOR_DECODE, "github.com/fxamacker/cbor", "decode", "GOPATH build: (*decoder).parse..."),
	RS(CBOR_DECODE, "github.com/fxamacker/cbor", "Decode", "GOPATH build: (*Decoder).Decode"),
	RS(CBOR_DECODE, "github.com/fxamacker/cbor", "decMode", "GOPATH build: (*decMode).Unmarshal"),
	RS(CBOR_DECODE, "github.com/fxamacker/cbor", "nmarshal", "GOPATH build: Unmarshal"),
	RS(CBOR_DECODE, "github.com/fxamacker/cbor", "ellformed", "GOPATH build: wellformed"),
	RS(CBOR_DECODE, "github.com/fxamacker/cbor", "Valid", "GOPATH build: Valid"),
	RS(CBOR_ENCODE, "github.com/fxamacker/cbor", "ncode", "GOPATH build: encodeStruct, encodeMap..."),
	RS(CBOR_ENCODE, "github.com/fxamacker/cbor", "encMode", "GOPATH build: (*encMode).Marshal"),
	RS(CBOR_ENCODE, "github.com/fxamacker/cbor", "arshal", "GOPATH build: Marshal"),
	/* k8s.io/apimachinery's own CBOR frames around the engine */
	RS(CBOR_DECODE, "k8s.io/apimachinery/pkg/runtime/serializer/cbor", "Decode", "(*serializer).Decode"),
	RS(CBOR_DECODE, "k8s.io/apimachinery/pkg/runtime/serializer/cbor", "nmarshal", "(*serializer).unmarshal"),
	RS(CBOR_DECODE, "k8s.io/apimachinery/pkg/runtime/serializer/cbor", "Recognizes", "RecognizesData"),
	RS(CBOR_ENCODE, "k8s.io/apimachinery/pkg/runtime/serializer/cbor", "ncode", "(*serializer).Encode, encode"),
	RS(CBOR_DECODE, "k8s.io/apimachinery/pkg/runtime/serializer/cbor/internal/modes", "Decode", "decode modes"),
	RS(CBOR_ENCODE, "k8s.io/apimachinery/pkg/runtime/serializer/cbor/internal/modes", "ncode", "encode modes, buffers"),
	RS(CBOR_ENCODE, "k8s.io/apimachinery/pkg/runtime/serializer/cbor/direct", "arshal", "direct.Marshal"),
	RS(CBOR_DECODE, "k8s.io/apimachinery/pkg/runtime/serializer/cbor/direct", "nmarshal", "direct.Unmarshal"),

	/* --- the phases of a request in k8s.io/apiserver ------------------------- */
	/*
	 * These name the code, not its callers: the innermost match decides,
	 * so JSON decoding inside admission is json_decode, and gRPC under
	 * the etcd client is grpc. Filters wrap one another and the handler,
	 * so a filter's frame decides only when no frame between it and the
	 * leaf is a handler's, which the STOP rules at the end guarantee.
	 */
	R(AUTHENTICATION, PREFIX, "k8s.io/apiserver/pkg/endpoints/filters.withAuthentication", "the authentication filter"),
	RS(AUTHENTICATION, "k8s.io/apiserver/pkg/server", ".withAuthentication.", "the same, inlined into DefaultBuildHandlerChain"),
	R(AUTHENTICATION, PREFIX, "k8s.io/apiserver/pkg/endpoints/filters.WithAuthentication", "the authentication filter"),
	R(AUTHENTICATION, PKG, "k8s.io/apiserver/pkg/authentication", "authenticators: x509, token, union, anonymous"),
	R(AUTHENTICATION, PKG, "k8s.io/apiserver/plugin/pkg/authenticator", "webhook token, OIDC"),
	R(AUTHENTICATION, PKG, "k8s.io/kubernetes/pkg/kubeapiserver/authenticator", "kube-apiserver's authenticator config"),
	R(AUTHENTICATION, PKG, "k8s.io/kubernetes/pkg/serviceaccount", "service account tokens"),
	R(AUTHENTICATION, PKG, "k8s.io/kubernetes/plugin/pkg/auth/authenticator", "bootstrap tokens"),
	R(AUTHORIZATION, PREFIX, "k8s.io/apiserver/pkg/endpoints/filters.withAuthorization", "the authorization filter"),
	RS(AUTHORIZATION, "k8s.io/apiserver/pkg/server", ".withAuthorization.", "the same, inlined into DefaultBuildHandlerChain"),
	R(AUTHORIZATION, PREFIX, "k8s.io/apiserver/pkg/endpoints/filters.WithAuthorization", "the authorization filter"),
	R(AUTHORIZATION, PREFIX, "k8s.io/apiserver/pkg/endpoints/filters.GetAuthorizerAttributes", "building its attributes"),
	R(AUTHORIZATION, PKG, "k8s.io/apiserver/pkg/authorization", "authorizer union, path, privileged groups, CEL"),
	R(AUTHORIZATION, PKG, "k8s.io/apiserver/plugin/pkg/authorizer", "webhook authorizer"),
	R(AUTHORIZATION, PKG, "k8s.io/kubernetes/plugin/pkg/auth/authorizer", "RBAC, Node"),
	R(AUTHORIZATION, PKG, "k8s.io/kubernetes/pkg/registry/rbac", "RBAC rule resolution (before .../validation)"),
	R(ADMISSION, PKG, "k8s.io/apiserver/pkg/admission", "admission chain, webhooks, policies, namespace lifecycle"),
	R(ADMISSION, PKG, "k8s.io/kubernetes/plugin/pkg/admission", "kube-apiserver's admission plugins"),
	R(VALIDATION, PKG, "k8s.io/kube-openapi/pkg/validation", "OpenAPI schema validation of custom resources"),
	R(VALIDATION, PKG, "k8s.io/apiextensions-apiserver/pkg/apiserver/validation", "CRD schema validators"),
	R(VALIDATION, PKG, "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel", "x-kubernetes-validations rules"),
	RS(VALIDATION, "k8s.io/apiextensions-apiserver/pkg/registry/customresource", "alidat", "customResourceValidator, strategy Validate*"),
	R(VALIDATION, PKG, "k8s.io/apiserver/pkg/cel", "CEL libraries of validation rules and policies"),
	R(VALIDATION, PKG, "github.com/google/cel-go", "CEL (old import path)"),
	R(VALIDATION, PKG, "cel.dev/expr", "CEL expressions"),
	R(VALIDATION, PKG, "cel.dev/cel-go", "CEL"),
	R(VALIDATION, PKGLAST, "validation", "k8s.io/kubernetes/pkg/apis/*/validation, apimachinery's api/validation, util/validation..."),
	R(VALIDATION, PKG, "k8s.io/apimachinery/pkg/util/validation", "name and label checks"),
	R(CONVERSION, PKG, "k8s.io/apimachinery/pkg/conversion", "the converter and its reflection helpers"),
	R(CONVERSION, PREFIX, "k8s.io/apimachinery/pkg/runtime.(*Scheme).Convert", "Convert, ConvertToVersion, ConvertFieldLabel"),
	R(CONVERSION, PREFIX, "k8s.io/apimachinery/pkg/runtime.(*Scheme).UnsafeConvertToVersion", "conversion"),
	R(CONVERSION, PREFIX, "k8s.io/apimachinery/pkg/runtime.(*Scheme).convertToVersion", "conversion"),
	R(CONVERSION, PREFIX, "k8s.io/apimachinery/pkg/runtime.(*Scheme).Default", "defaulting funcs"),
	R(CONVERSION, PREFIX, "k8s.io/apimachinery/pkg/runtime.unsafeObjectConvertor", "conversion"),
	R(CONVERSION, PREFIX, "k8s.io/apimachinery/pkg/runtime.(*unstructuredConverter)", "typed <-> unstructured"),
	R(CONVERSION, PREFIX, "k8s.io/apimachinery/pkg/runtime.toUnstructured", "typed -> unstructured"),
	R(CONVERSION, PREFIX, "k8s.io/apimachinery/pkg/runtime.fromUnstructured", "unstructured -> typed"),
	R(CONVERSION, PKG, "k8s.io/apiextensions-apiserver/pkg/apiserver/conversion", "CR version conversion (none, webhook)"),
	R(CONVERSION, PKG, "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting", "CR defaulting"),
	R(CONVERSION, PKG, "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning", "CR pruning of unknown fields"),
	R(CONVERSION, PKG, "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta", "CR metadata coercion"),
	R(CONVERSION, PREFIX, "k8s.io/apiextensions-apiserver/pkg/apiserver.unstructuredDefaulter", "CR defaulting"),
	R(CONVERSION, PREFIX, "k8s.io/apiextensions-apiserver/pkg/apiserver.(*unstructuredDefaulter)", "CR defaulting"),
	R(CONVERSION, PREFIX, "k8s.io/apiextensions-apiserver/pkg/apiserver.(*schemaCoercingConverter)", "CR conversion and pruning"),
	R(CONVERSION, PREFIX, "k8s.io/apiextensions-apiserver/pkg/apiserver.schemaCoercingConverter", "CR conversion and pruning"),
	R(CONVERSION, PREFIX, "k8s.io/apiextensions-apiserver/pkg/apiserver.(*unstructuredSchemaCoercer)", "CR pruning and coercion"),
	R(CONVERSION, PREFIX, "k8s.io/apiextensions-apiserver/pkg/apiserver.(*schemaCoercingDecoder)", "CR decoding's pruning"),
	R(CONVERSION, FUNCPFX, "Convert_", "generated conversion functions (zz_generated.conversion.go)"),
	R(CONVERSION, FUNCPFX, "autoConvert_", "generated conversion functions"),
	R(CONVERSION, FUNCPFX, "SetDefaults_", "defaulting functions"),
	R(CONVERSION, FUNCPFX, "SetObjectDefaults_", "generated defaulters (zz_generated.defaults.go)"),
	R(WATCH_CACHE, PKG, "k8s.io/apiserver/pkg/storage/cacher", "the cacher, watchCache, cacheWatchers, dispatch"),
	R(ETCD_CLIENT, PKG, "k8s.io/apiserver/pkg/storage/etcd3", "the etcd3 store and its watcher"),
	R(ETCD_CLIENT, PKG, "k8s.io/apiserver/pkg/storage/value", "transformers of values read from and written to etcd"),
	R(ETCD_CLIENT, PKG, "go.etcd.io/etcd/client/v3", "clientv3 3.5+"),
	R(ETCD_CLIENT, PKG, "go.etcd.io/etcd/clientv3", "clientv3 3.4"),
	R(ETCD_CLIENT, PKG, "github.com/coreos/etcd/clientv3", "clientv3 3.3"),
	R(HTTP_FILTERS, PKG, "k8s.io/apiserver/pkg/endpoints/filters", "request info, audit, impersonation, warnings, tracing..."),
	R(HTTP_FILTERS, PKG, "k8s.io/apiserver/pkg/server/filters", "timeout, max-in-flight, priority and fairness, CORS, HSTS, wait group"),
	R(HTTP_FILTERS, PKG, "k8s.io/apiserver/pkg/util/flowcontrol", "API priority and fairness queueing"),
	R(HTTP_FILTERS, PREFIX, "k8s.io/apiserver/pkg/endpoints/request.(*RequestInfoFactory)", "RequestInfo"),
	/* filters inlined into the chain's builder: "DefaultBuildHandlerChain.WithWaitGroup.withWaitGroup.func29" */
	R(HTTP_FILTERS, PREFIX, "k8s.io/apiserver/pkg/server.DefaultBuildHandlerChain", "filter closures inlined into the chain builder"),
	R(HTTP_FILTERS, PKG, "k8s.io/apiserver/pkg/endpoints/filterlatency", "filter latency tracking"),
	R(HTTP_FILTERS, PKG, "k8s.io/apiserver/pkg/endpoints/responsewriter", "response writer wrappers of the filters"),
	R(HTTP_FILTERS, PKG, "k8s.io/apiserver/pkg/endpoints/metrics", "apiserver_request_* instrumentation"),
	R(HTTP_FILTERS, PKG, "k8s.io/apiserver/pkg/server/httplog", "request logging"),
	R(HTTP_FILTERS, PKG, "k8s.io/apiserver/pkg/audit", "audit events"),

	/* --- where the handler starts: other, and the search stops ----------- */
	/*
	 * The filter chain, and net/http's bundled HTTP/2 (whose runHandler
	 * starts every stream's goroutine), are further out than all of a
	 * request's work. Without these a sample in handler code that no
	 * rule names would take the category of a filter or of http2.
	 * Allocation inside still counts as gc (the weak match wins here).
	 */
	STOP(PKG, "k8s.io/apiserver/pkg/endpoints/handlers", "get, list, watch, create, update, patch, delete handlers"),
	STOP(PKG, "k8s.io/apiserver/pkg/registry", "the generic registry store and rest hooks"),
	STOP(PKG, "k8s.io/apiextensions-apiserver/pkg/registry", "CRD and custom resource storage"),
	STOP(PREFIX, "k8s.io/apiextensions-apiserver/pkg/apiserver.(*crdHandler)", "custom resource routing"),
	STOP(PREFIX, "k8s.io/apiserver/pkg/server.director", "the end of the filter chain"),
	STOP(PKG, "k8s.io/apiserver/pkg/server/mux", "non-resource routing (PathRecorderMux)"),
	STOP(PKG, "github.com/emicklei/go-restful", "built-in resource routing"),
	STOP(PKG, "github.com/emicklei/go-restful/v3", "built-in resource routing"),
	STOP(EXACT, "net/http.serverHandler.ServeHTTP", "every net/http handler, HTTP/1.1 and HTTP/2"),
	STOP(EXACT, "net/http.initALPNRequest.ServeHTTP", "HTTP/2 over TLS handlers"),
	STOP(EXACT, "net/http.HandlerFunc.ServeHTTP", "any handler function"),
};

/* Package path prefixes whose methods named Marshal/Size/Unmarshal are generated protobuf code. */
static const char *const pb_prefixes[] = {
	"k8s.io/api/",
	"k8s.io/apimachinery/pkg/apis/",
	"k8s.io/apimachinery/pkg/runtime",
	"k8s.io/apimachinery/pkg/api/resource",
	"k8s.io/apimachinery/pkg/util/intstr",
	"k8s.io/kube-aggregator/pkg/apis/",
	"k8s.io/apiextensions-apiserver/pkg/apis/",
	"k8s.io/metrics/pkg/apis/",
	"k8s.io/cri-api/",
	"github.com/gogo/protobuf/types",
	"github.com/gogo/googleapis/",
	"github.com/golang/protobuf/ptypes/",
	"go.etcd.io/etcd/api/v3/",
	"go.etcd.io/raft/v3/raftpb",
	"go.etcd.io/etcd/raft/v3/raftpb",
};

const char *classify__name(enum cpu_category c)
{
	if ((int)c < 0 || c >= CAT__COUNT)
		return "invalid";
	return cat_names[c];
}

int classify__from_name(const char *name)
{
	int i;

	for (i = 0; name && i < CAT__COUNT; i++)
		if (!strcmp(cat_names[i], name))
			return i;
	return -1;
}

static bool starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/*
 * Length of the package path of a Go name: up to the first '.' after the
 * last '/' ("k8s.io/api/core/v1.(*Pod).Marshal" -> "k8s.io/api/core/v1").
 */
static size_t pkg_len(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *dot = strchr(slash ? slash : name, '.');

	return dot ? (size_t)(dot - name) : 0;
}

/* Generated protobuf code lives in these packages, or in one whose last element ends in "pb". */
static bool pb_package(const char *name)
{
	size_t n = pkg_len(name), i;

	if (n >= 2 && name[n - 2] == 'p' && name[n - 1] == 'b')
		return true;
	for (i = 0; i < sizeof(pb_prefixes) / sizeof(pb_prefixes[0]); i++)
		if (starts(name, pb_prefixes[i]))
			return true;
	return false;
}

static bool rule_matches(const struct rule *r, const char *name)
{
	size_t n = strlen(r->pat), plen;
	const char *fn;

	switch (r->kind) {
	case PKG:
		return !strncmp(name, r->pat, n) && (name[n] == '.' || name[n] == '/');
	case PREFIX:
		return !strncmp(name, r->pat, n);
	case EXACT:
		return !strcmp(name, r->pat);
	case PKGSUB:
		return !strncmp(name, r->pat, n) && name[n] == '.' && strstr(name + n, r->sub);
	case PBMETH:
		plen = strlen(name);
		return plen > n && !strcmp(name + plen - n, r->pat) && pb_package(name);
	case PBFUNC:
		plen = pkg_len(name);
		if (!plen)
			return false;
		fn = name + plen + 1;
		/* a plain function (not a method): "skipGenerated", "sovRpc" */
		return !strchr(fn, '.') && !strncmp(fn, r->pat, n) &&
		       fn[n] >= 'A' && fn[n] <= 'Z' && pb_package(name);
	case FUNCPFX:
		plen = pkg_len(name);
		if (!plen)
			return false;
		fn = name + plen + 1;
		return !strncmp(fn, r->pat, n) && !strchr(fn, '(');
	case PKGLAST:
		plen = pkg_len(name);
		return plen > n && name[plen - n - 1] == '/' && !strncmp(name + plen - n, r->pat, n);
	}
	return false;
}

/*
 * Normalise NAME into BUF: drop "[...]" generic arguments, everything up
 * to the last "vendor/" path element, and map sigs.k8s.io/json's
 * encoding/json fork onto encoding/json. Names longer than BUF are cut,
 * which only loses the tail of very long closures.
 */
static const char *normalise(const char *name, char *buf, size_t size)
{
	static const char fork[] = "sigs.k8s.io/json/internal/golang/";
	const char *s = name, *v;
	size_t o = 0;
	int depth = 0;

	const char *gen = strchr(name, '[');

	/* vendoring: "k8s.io/kubernetes/vendor/x", "vendor/golang.org/x/..."; not inside "[...]" */
	for (v = name; (v = strstr(v, "vendor/")) && (!gen || v < gen); v++) {
		if (v == name || v[-1] == '/')
			s = v + 7;
	}
	if (starts(s, fork))
		s += sizeof(fork) - 1;
	for (; *s && o + 1 < size; s++) {
		if (*s == '[') {
			depth++;
			continue;
		}
		if (*s == ']' && depth) {
			depth--;
			continue;
		}
		if (!depth)
			buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

static const struct rule *match_frame(const char *func)
{
	char buf[512];
	const char *name;
	size_t i;

	if (!func || !*func || func[0] == '[')
		return NULL;
	name = normalise(func, buf, sizeof(buf));
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rule_matches(&rules[i], name))
			return &rules[i];
	return NULL;
}

int classify__frame(const char *func, bool *weak)
{
	const struct rule *r = match_frame(func);

	if (weak)
		*weak = r && r->weak;
	return r ? (int)r->cat : -1;
}

static bool unsymbolized(const char *f)
{
	return !f || !*f || !strncmp(f, "[unknown", 8);
}

enum cpu_category classify__stack(const char *const *funcs, const bool *kernel, int n)
{
	const struct rule *weak = NULL, *r;
	int i;

	if (!funcs || n <= 0)
		return CAT_UNKNOWN;
	for (i = 0; i < n; i++)
		if (kernel && kernel[i])
			return CAT_SYSCALL;
	for (i = 0; i < n; i++) {
		r = match_frame(funcs[i]);
		if (!r)
			continue;
		if (r->stop)
			break;
		if (!r->weak)
			return r->cat;
		weak = r; /* the outermost weak match: allocation under the scanner is json */
	}
	if (weak)
		return weak->cat;
	return unsymbolized(funcs[0]) ? CAT_UNKNOWN : CAT_OTHER;
}

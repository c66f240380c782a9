// SPDX-License-Identifier: MIT
/*
 * test_classify: real stacks of kube-apiserver and etcd (function names
 * as the Go runtime and the pclntab spell them, taken from the fixtures,
 * Debian's etcd 3.4 and the Kubernetes sources), leaf first, and the
 * category each must get, including the precedence cases the rules in
 * classify.c document: allocation under a serializer, GC assists, kernel
 * frames, nested serializers, the JSON scanner under an encoder.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "classify.h"

#define MAXF 12

struct tcase {
	enum cpu_category want;
	int nkernel;               /* the first NKERNEL frames are kernel frames */
	const char *f[MAXF];       /* leaf first, NULL-terminated */
};

static const struct tcase cases[] = {
	/* --- encoding/json ------------------------------------------------ */
	{ CAT_JSON_ENCODE, 0, { "encoding/json.stringEncoder", "encoding/json.structEncoder.encode",
		"encoding/json.(*encodeState).reflectValue", "encoding/json.(*encodeState).marshal",
		"encoding/json.Marshal", "main.handleList" } },
	{ CAT_JSON_ENCODE, 0, { "encoding/json.appendString[...]", "encoding/json.(*encodeState).string",
		"encoding/json.mapEncoder.encode", "encoding/json.(*Encoder).Encode" } },
	{ CAT_JSON_ENCODE, 0, { "encoding/json.appendCompact", "encoding/json.compact",
		"encoding/json.marshalerEncoder", "encoding/json.(*encodeState).reflectValue" } },
	{ CAT_JSON_ENCODE, 0, { "encoding/json.stateInString", "encoding/json.appendCompact",
		"encoding/json.addrMarshalerEncoder", "encoding/json.condAddrEncoder.encode" } },
	{ CAT_JSON_ENCODE, 0, { "runtime.mallocgc", "runtime.growslice", "encoding/json.(*encodeState).string",
		"encoding/json.structEncoder.encode" } },
	{ CAT_JSON_ENCODE, 0, { "runtime.memmove", "bytes.(*Buffer).Write", "encoding/json.(*Encoder).Encode",
		"k8s.io/apimachinery/pkg/runtime/serializer/json.(*Serializer).doEncode",
		"k8s.io/apimachinery/pkg/runtime/serializer/json.(*Serializer).Encode" } },
	{ CAT_JSON_ENCODE, 0, { "reflect.Value.Field", "encoding/json.ptrEncoder.encode",
		"encoding/json.sliceEncoder.encode", "encoding/json.arrayEncoder.encode" } },
	{ CAT_JSON_ENCODE, 0, { "strconv.AppendInt", "encoding/json.intEncoder", "encoding/json.structEncoder.encode" } },
	{ CAT_JSON_ENCODE, 0, { "k8s.io/apimachinery/pkg/runtime/serializer/json.(*Serializer).Encode",
		"k8s.io/apimachinery/pkg/runtime/serializer/versioning.(*codec).doEncode" } },
	{ CAT_JSON_ENCODE, 0, { "encoding/json.(*encodeState).marshal.func1", "runtime.gopanic" } },
	{ CAT_JSON_ENCODE, 0, { "github.com/json-iterator/go.(*Stream).WriteString",
		"github.com/json-iterator/go.(*stringCodec).Encode",
		"github.com/json-iterator/go.(*structFieldEncoder).Encode" } },
	{ CAT_JSON_ENCODE, 0, { "k8s.io/kubernetes/vendor/github.com/json-iterator/go.(*Stream).writeByte",
		"k8s.io/kubernetes/vendor/github.com/json-iterator/go.(*frozenConfig).Marshal" } },
	{ CAT_JSON_ENCODE, 0, { "google.golang.org/protobuf/encoding/protojson.encoder.marshalMessage",
		"google.golang.org/protobuf/encoding/protojson.MarshalOptions.marshal" } },
	{ CAT_JSON_ENCODE, 0, { "runtime.mapaccess2_faststr", "k8s.io/apimachinery/pkg/apis/meta/v1.Time.MarshalJSON",
		"encoding/json.marshalerEncoder", "encoding/json.structEncoder.encode" } },
	/* --- JSON decode --------------------------------------------------- */
	{ CAT_JSON_DECODE, 0, { "encoding/json.(*decodeState).rescanLiteral", "encoding/json.(*decodeState).value",
		"encoding/json.(*decodeState).object", "encoding/json.(*decodeState).unmarshal",
		"encoding/json.Unmarshal" } },
	{ CAT_JSON_DECODE, 0, { "encoding/json.stateInString", "encoding/json.checkValid", "encoding/json.Unmarshal" } },
	{ CAT_JSON_DECODE, 0, { "encoding/json.(*scanner).eof", "encoding/json.checkValid" } },
	{ CAT_JSON_DECODE, 0, { "encoding/json.unquoteBytes", "encoding/json.(*decodeState).literalStore" } },
	{ CAT_JSON_DECODE, 0, { "runtime.mallocgc", "runtime.newobject", "reflect.New",
		"encoding/json.(*decodeState).object" } },
	{ CAT_JSON_DECODE, 0, { "encoding/json.(*Decoder).readValue", "encoding/json.(*Decoder).Decode" } },
	{ CAT_JSON_DECODE, 0, { "sigs.k8s.io/json/internal/golang/encoding/json.(*decodeState).object",
		"sigs.k8s.io/json/internal/golang/encoding/json.(*decodeState).value",
		"sigs.k8s.io/json.UnmarshalCaseSensitivePreserveInts" } },
	{ CAT_JSON_DECODE, 0, { "k8s.io/kubernetes/vendor/sigs.k8s.io/json/internal/golang/encoding/json.stateEndValue",
		"k8s.io/kubernetes/vendor/sigs.k8s.io/json/internal/golang/encoding/json.checkValid" } },
	{ CAT_JSON_DECODE, 0, { "sigs.k8s.io/json.UnmarshalStrict" } },
	{ CAT_JSON_DECODE, 0, { "k8s.io/apimachinery/pkg/runtime/serializer/json.(*Serializer).unmarshal",
		"k8s.io/apimachinery/pkg/runtime/serializer/json.(*Serializer).Decode" } },
	{ CAT_JSON_DECODE, 0, { "github.com/json-iterator/go.(*Iterator).skipWhitespacesWithoutLoadMore",
		"github.com/json-iterator/go.(*Iterator).ReadString",
		"github.com/json-iterator/go.(*generalStructDecoder).Decode" } },
	{ CAT_JSON_DECODE, 0, { "google.golang.org/protobuf/encoding/protojson.decoder.unmarshalMessage",
		"google.golang.org/protobuf/encoding/protojson.UnmarshalOptions.unmarshal" } },
	{ CAT_JSON_DECODE, 0, { "runtime.mallocgc", "runtime.growslice", "encoding/json.(*scanner).pushParseState",
		"encoding/json.checkValid" } },
	/* --- protobuf ------------------------------------------------------- */
	{ CAT_PROTOBUF_ENCODE, 0, { "k8s.io/api/core/v1.(*PodSpec).MarshalToSizedBuffer",
		"k8s.io/api/core/v1.(*Pod).MarshalToSizedBuffer",
		"k8s.io/apimachinery/pkg/runtime/serializer/protobuf.(*Serializer).doEncode" } },
	{ CAT_PROTOBUF_ENCODE, 0, { "k8s.io/api/core/v1.encodeVarintGenerated", "k8s.io/api/core/v1.(*Container).MarshalToSizedBuffer" } },
	{ CAT_PROTOBUF_ENCODE, 0, { "k8s.io/api/core/v1.sovGenerated", "k8s.io/api/core/v1.(*ObjectReference).Size",
		"k8s.io/api/core/v1.(*Event).Size" } },
	{ CAT_PROTOBUF_ENCODE, 0, { "k8s.io/apimachinery/pkg/apis/meta/v1.(*ObjectMeta).MarshalToSizedBuffer",
		"k8s.io/api/core/v1.(*ConfigMap).MarshalToSizedBuffer" } },
	{ CAT_PROTOBUF_ENCODE, 0, { "k8s.io/apimachinery/pkg/runtime/serializer/protobuf.(*Serializer).Encode",
		"k8s.io/apimachinery/pkg/runtime/serializer/versioning.(*codec).doEncode" } },
	{ CAT_PROTOBUF_ENCODE, 0, { "runtime.mallocgc", "runtime.makeslice",
		"k8s.io/apimachinery/pkg/runtime.(*Unknown).Marshal" } },
	{ CAT_PROTOBUF_ENCODE, 0, { "go.etcd.io/etcd/api/v3/mvccpb.(*KeyValue).MarshalToSizedBuffer",
		"go.etcd.io/etcd/api/v3/etcdserverpb.(*RangeResponse).MarshalToSizedBuffer",
		"go.etcd.io/etcd/api/v3/etcdserverpb.(*RangeResponse).Marshal",
		"google.golang.org/grpc/encoding/proto.codec.Marshal", "google.golang.org/grpc.encode" } },
	{ CAT_PROTOBUF_ENCODE, 0, { "go.etcd.io/etcd/etcdserver/etcdserverpb.sovRpc",
		"go.etcd.io/etcd/etcdserver/etcdserverpb.(*RangeResponse).Size" } },
	{ CAT_PROTOBUF_ENCODE, 0, { "google.golang.org/protobuf/internal/impl.appendStringValidateUTF8",
		"google.golang.org/protobuf/internal/impl.(*MessageInfo).marshalAppendPointer",
		"google.golang.org/protobuf/proto.MarshalOptions.marshal" } },
	{ CAT_PROTOBUF_ENCODE, 0, { "google.golang.org/protobuf/internal/impl.(*MessageInfo).sizePointer",
		"google.golang.org/protobuf/proto.MarshalOptions.size" } },
	{ CAT_PROTOBUF_ENCODE, 0, { "github.com/gogo/protobuf/proto.(*Buffer).EncodeVarint",
		"github.com/gogo/protobuf/proto.Marshal" } },
	{ CAT_PROTOBUF_ENCODE, 0, { "github.com/golang/protobuf/proto.Marshal",
		"google.golang.org/grpc/encoding/proto.codec.Marshal" } },
	{ CAT_PROTOBUF_ENCODE, 0, { "go.etcd.io/etcd/raft/raftpb.(*Entry).MarshalTo",
		"go.etcd.io/etcd/raft/raftpb.(*Entry).Marshal", "go.etcd.io/etcd/wal.(*encoder).encode" } },
	{ CAT_PROTOBUF_ENCODE, 0, { "google.golang.org/grpc/encoding/proto.(*codecV2).Marshal" } },
	{ CAT_PROTOBUF_DECODE, 0, { "k8s.io/api/core/v1.(*Container).Unmarshal", "k8s.io/api/core/v1.(*PodSpec).Unmarshal",
		"k8s.io/api/core/v1.(*Pod).Unmarshal",
		"k8s.io/apimachinery/pkg/runtime/serializer/protobuf.unmarshalToObject" } },
	{ CAT_PROTOBUF_DECODE, 0, { "k8s.io/api/core/v1.skipGenerated", "k8s.io/api/core/v1.(*Node).Unmarshal" } },
	{ CAT_PROTOBUF_DECODE, 0, { "runtime.mallocgc", "runtime.makemap_small",
		"k8s.io/apimachinery/pkg/apis/meta/v1.(*ObjectMeta).Unmarshal" } },
	{ CAT_PROTOBUF_DECODE, 0, { "k8s.io/apimachinery/pkg/runtime/serializer/protobuf.(*Serializer).Decode",
		"k8s.io/apimachinery/pkg/runtime/serializer/recognizer.(*decoder).Decode" } },
	{ CAT_PROTOBUF_DECODE, 0, { "go.etcd.io/etcd/api/v3/mvccpb.(*KeyValue).Unmarshal",
		"go.etcd.io/etcd/server/v3/mvcc.(*kvstore).rangeKeys" } },
	{ CAT_PROTOBUF_DECODE, 0, { "go.etcd.io/etcd/etcdserver/etcdserverpb.(*PutRequest).Unmarshal",
		"google.golang.org/grpc/encoding/proto.codec.Unmarshal" } },
	{ CAT_PROTOBUF_DECODE, 0, { "google.golang.org/protobuf/internal/impl.consumeBytesNoZero",
		"google.golang.org/protobuf/internal/impl.(*MessageInfo).unmarshalPointer",
		"google.golang.org/protobuf/proto.UnmarshalOptions.unmarshal" } },
	{ CAT_PROTOBUF_DECODE, 0, { "github.com/gogo/protobuf/proto.(*Buffer).DecodeVarint",
		"github.com/gogo/protobuf/proto.Unmarshal" } },
	{ CAT_PROTOBUF_DECODE, 0, { "k8s.io/kubernetes/vendor/k8s.io/api/apps/v1.(*Deployment).Unmarshal" } },
	{ CAT_PROTOBUF_DECODE, 0, { "go.etcd.io/etcd/api/v3/etcdserverpb.skipRpc",
		"go.etcd.io/etcd/api/v3/etcdserverpb.(*RangeRequest).Unmarshal" } },
	/* --- yaml, gzip, tls, http2, grpc ------------------------------------ */
	{ CAT_YAML, 0, { "sigs.k8s.io/yaml/goyaml.v2.yaml_parser_scan_plain_scalar",
		"sigs.k8s.io/yaml/goyaml.v2.(*parser).parse", "sigs.k8s.io/yaml.yamlUnmarshal" } },
	{ CAT_YAML, 0, { "gopkg.in/yaml.v2.(*decoder).unmarshal", "gopkg.in/yaml.v2.Unmarshal" } },
	{ CAT_YAML, 0, { "github.com/ghodss/yaml.YAMLToJSON" } },
	{ CAT_JSON_ENCODE, 0, { "encoding/json.Marshal", "sigs.k8s.io/yaml.YAMLToJSON" } },
	{ CAT_GZIP, 0, { "compress/flate.(*compressor).deflate", "compress/flate.(*compressor).write",
		"compress/gzip.(*Writer).Write", "encoding/json.(*Encoder).Encode" } },
	{ CAT_GZIP, 0, { "compress/flate.(*huffmanBitWriter).writeBlockDynamic",
		"compress/flate.(*compressor).close" } },
	{ CAT_GZIP, 0, { "hash/crc32.ieeeCLMUL", "hash/crc32.Update", "compress/gzip.(*Writer).Write" } },
	{ CAT_GZIP, 0, { "github.com/klauspost/compress/flate.(*fastEncL1).Encode",
		"github.com/klauspost/compress/gzhttp.(*GzipResponseWriter).Write" } },
	{ CAT_TLS, 0, { "crypto/aes.gcmAesEnc", "crypto/aes.(*gcmAsm).Seal", "crypto/tls.(*prefixNonceAEAD).Seal",
		"crypto/tls.(*halfConn).encrypt", "crypto/tls.(*Conn).writeRecordLocked",
		"net/http.(*http2Framer).WriteData" } },
	{ CAT_TLS, 0, { "crypto/internal/bigmod.addMulVVW2048", "crypto/internal/bigmod.(*Nat).montgomeryMul",
		"crypto/rsa.decrypt", "crypto/tls.(*serverHandshakeStateTLS13).sendServerCertificate" } },
	{ CAT_TLS, 0, { "crypto/internal/nistec.p256OrdSqr", "crypto/ecdsa.signNISTEC[...]" } },
	{ CAT_TLS, 0, { "vendor/golang.org/x/crypto/chacha20poly1305.(*chacha20poly1305).sealGeneric" } },
	{ CAT_TLS, 0, { "crypto/sha256.block", "crypto/hmac.(*hmac).Write", "crypto/tls.(*cthWrapper).Write" } },
	{ CAT_TLS, 0, { "runtime.mallocgc", "crypto/x509.parseCertificate" } },
	{ CAT_HTTP2, 0, { "vendor/golang.org/x/net/http2/hpack.(*Encoder).WriteField",
		"net/http.(*http2writeResHeaders).writeFrame" } },
	{ CAT_HTTP2, 0, { "net/http.(*http2serverConn).serve", "net/http.(*http2Server).ServeConn" } },
	{ CAT_HTTP2, 0, { "net/http.http2parseHeadersFrame", "net/http.(*http2Framer).ReadFrame" } },
	/* Go 1.27: net/http's HTTP/2 is no longer bundled (net/http/internal/http2) */
	{ CAT_HTTP2, 0, { "net/http/internal/http2.(*serverConn).writeFrame", "net/http/internal/http2.(*serverConn).serve" } },
	{ CAT_HTTP2, 0, { "golang.org/x/net/http2.(*Framer).WriteDataPadded",
		"google.golang.org/grpc/internal/transport.(*bufWriter).Write" } },
	{ CAT_HTTP2, 0, { "golang.org/x/net/http2/hpack.huffmanDecode", "golang.org/x/net/http2/hpack.(*Decoder).Write",
		"golang.org/x/net/http2.(*Framer).readMetaFrame" } },
	{ CAT_HTTP2, 0, { "k8s.io/kubernetes/vendor/golang.org/x/net/http2.(*serverConn).writeFrameAsync" } },
	{ CAT_GRPC, 0, { "google.golang.org/grpc/internal/transport.(*http2Server).operateHeaders",
		"google.golang.org/grpc/internal/transport.(*http2Server).HandleStreams" } },
	{ CAT_GRPC, 0, { "runtime.selectgo", "google.golang.org/grpc.(*Server).handleStream" } },
	{ CAT_GRPC, 0, { "github.com/grpc-ecosystem/go-grpc-prometheus.(*ServerMetrics).UnaryServerInterceptor.func1" } },
	/* --- etcd storage ----------------------------------------------------- */
	{ CAT_ETCD_STORAGE, 0, { "go.etcd.io/bbolt.(*Cursor).search", "go.etcd.io/bbolt.(*Cursor).seek",
		"go.etcd.io/bbolt.(*Bucket).Get" } },
	{ CAT_ETCD_STORAGE, 0, { "go.etcd.io/bbolt.(*node).spill", "go.etcd.io/bbolt.(*Tx).Commit",
		"go.etcd.io/etcd/server/v3/mvcc/backend.(*batchTx).commit" } },
	{ CAT_ETCD_STORAGE, 0, { "go.etcd.io/etcd/server/v3/mvcc.(*treeIndex).Range",
		"go.etcd.io/etcd/server/v3/mvcc.(*storeTxnRead).rangeKeys" } },
	{ CAT_ETCD_STORAGE, 0, { "hash/crc32.ieeeCLMUL", "hash/crc32.(*digest).Write",
		"go.etcd.io/etcd/wal.(*encoder).encode", "go.etcd.io/etcd/wal.(*WAL).Save" } },
	{ CAT_ETCD_STORAGE, 0, { "github.com/google/btree.(*node).iterate", "go.etcd.io/etcd/mvcc.(*treeIndex).Revisions" } },
	{ CAT_ETCD_STORAGE, 0, { "go.etcd.io/etcd/server/v3/storage/backend.(*readTx).UnsafeRange" } },
	{ CAT_ETCD_STORAGE, 0, { "github.com/coreos/etcd/mvcc/backend.(*batchTx).UnsafePut" } },
	/* --- gc ---------------------------------------------------------------- */
	{ CAT_GC, 0, { "runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker.func2",
		"runtime.systemstack" } },
	{ CAT_GC, 0, { "runtime.findObject", "runtime.scanobject", "runtime.gcDrainMarkWorkerDedicated",
		"runtime.gcBgMarkWorker.func2" } },
	{ CAT_GC, 0, { "runtime.scanobject", "runtime.gcDrainN", "runtime.gcAssistAlloc1",
		"runtime.gcAssistAlloc.func2", "runtime.systemstack", "runtime.gcAssistAlloc",
		"runtime.mallocgc", "encoding/json.(*encodeState).string" } },
	{ CAT_GC, 0, { "runtime.(*mspan).typePointersOfUnchecked", "runtime.scanobject" } },
	{ CAT_GC, 0, { "runtime.(*sweepLocked).sweep", "runtime.sweepone", "runtime.bgsweep" } },
	{ CAT_GC, 0, { "runtime.mallocgc", "runtime.newobject", "main.(*store).put" } },
	/* allocation by the watch cache is the watch cache's cost, like a serializer's */
	{ CAT_WATCH_CACHE, 0, { "runtime.memclrNoHeapPointers", "runtime.mallocgc", "runtime.makeslice",
		"k8s.io/apiserver/pkg/storage/cacher.(*watchCache).processEvent" } },
	{ CAT_GC, 0, { "runtime.(*mheap).allocSpan", "runtime.(*mheap).alloc.func1", "runtime.systemstack",
		"runtime.(*mheap).alloc", "runtime.(*mcentral).grow" } },
	{ CAT_GC, 0, { "runtime.bgscavenge" } },
	{ CAT_GC, 0, { "runtime.wbBufFlush1", "runtime.wbBufFlush.func1", "runtime.gcWriteBarrier2" } },
	/* --- syscall ------------------------------------------------------------ */
	{ CAT_SYSCALL, 3, { "copy_user_enhanced_fast_string", "tcp_sendmsg", "__x64_sys_write",
		"internal/runtime/syscall.Syscall6", "syscall.write", "internal/poll.(*FD).Write",
		"crypto/tls.(*Conn).write", "net/http.(*http2Framer).endWrite" } },
	{ CAT_SYSCALL, 2, { "[kernel]", "[kernel]", "runtime.mallocgc", "encoding/json.(*encodeState).marshal" } },
	{ CAT_SYSCALL, 1, { "asm_exc_page_fault", "[unknown]" } },
	{ CAT_SYSCALL, 0, { "runtime/internal/syscall.Syscall6", "syscall.Syscall", "syscall.write",
		"internal/poll.ignoringEINTRIO[...]", "internal/poll.(*FD).Write", "net.(*conn).Write",
		"crypto/tls.(*Conn).write" } },
	{ CAT_SYSCALL, 0, { "runtime.futex", "runtime.futexsleep", "runtime.notesleep", "runtime.stopm",
		"runtime.findRunnable", "runtime.schedule" } },
	{ CAT_SYSCALL, 0, { "runtime.epollwait", "runtime.netpoll", "runtime.findrunnable" } },
	{ CAT_SYSCALL, 0, { "internal/runtime/syscall.EpollWait", "runtime.netpoll" } },
	{ CAT_SYSCALL, 0, { "runtime.usleep", "runtime.sysmon" } },
	{ CAT_SYSCALL, 0, { "__GI___libc_write", "write", "my_c_function" } },
	{ CAT_SYSCALL, 0, { "syscall.RawSyscall6", "syscall.fstatat", "os.Stat",
		"go.etcd.io/etcd/pkg/fileutil.TouchDirAll" } },
	{ CAT_SYSCALL, 0, { "golang.org/x/sys/unix.Fdatasync", "go.etcd.io/etcd/pkg/fileutil.Fdatasync",
		"go.etcd.io/etcd/wal.(*WAL).sync" } },
	/*
	 * --- a real apiserver: apiextensions-apiserver 1.36 (Go 1.26, GOPATH
	 * build, so fxamacker/cbor without /v2) under create/get/patch/list/
	 * watch load in JSON and CBOR, sampled by cpprof at 999 Hz
	 * (tests/integration/test_apiserver.py); innermost frames as stored
	 * in cpu_stacks.
	 */
	{ CAT_CBOR_ENCODE, 0, { "reflect.Value.String", "github.com/fxamacker/cbor.encodeString",
		"github.com/fxamacker/cbor.encode", "github.com/fxamacker/cbor.encodeIntf",
		"github.com/fxamacker/cbor.(*mapKeyValueEncodeFunc).encodeKeyValues",
		"github.com/fxamacker/cbor.(*mapKeyValueEncodeFunc).encodeKeyValues-fm",
		"github.com/fxamacker/cbor.mapEncodeFunc.encode" } },
	{ CAT_CBOR_ENCODE, 0, { "sort.Sort", "github.com/fxamacker/cbor.mapEncodeFunc.encode-fm",
		"github.com/fxamacker/cbor.encode" } },
	{ CAT_CBOR_ENCODE, 0, { "runtime.memmove", "github.com/fxamacker/cbor/v2.encodeString",
		"github.com/fxamacker/cbor/v2.encode" } }, /* the same in a module build */
	{ CAT_CBOR_DECODE, 0, { "internal/sync.(*HashTrieMap[go.shape.interface {},go.shape.interface {}]).Load",
		"sync.(*Map).Load", "github.com/fxamacker/cbor.getDecodingStructType",
		"github.com/fxamacker/cbor.(*decoder).parseMapToStruct", "github.com/fxamacker/cbor.(*decoder).parseToValue",
		"github.com/fxamacker/cbor.(*decoder).value", "github.com/fxamacker/cbor.(*decMode).Unmarshal",
		"k8s.io/apimachinery/pkg/runtime/serializer/cbor.(*defaultMetaFactory).Interpret",
		"k8s.io/apimachinery/pkg/runtime/serializer/cbor.(*serializer).Decode" } },
	{ CAT_CBOR_DECODE, 0, { "internal/runtime/maps.h2", "internal/runtime/maps.(*Map).getWithKeySmall",
		"runtime.mapaccess2", "k8s.io/apimachinery/pkg/runtime/serializer/cbor.(*transcoders).getTranscoder",
		"k8s.io/apimachinery/pkg/runtime/serializer/cbor.transcodeRawTypes",
		"k8s.io/apimachinery/pkg/runtime/serializer/cbor.(*serializer).Decode",
		"k8s.io/apimachinery/pkg/runtime/serializer/recognizer.(*decoder).Decode",
		"k8s.io/apimachinery/pkg/runtime.(*codec).Decode",
		"k8s.io/apiextensions-apiserver/pkg/apiserver.schemaCoercingDecoder.Decode" } },
	{ CAT_AUTHENTICATION, 0, { "time.now", "time.Now", "k8s.io/apiserver/pkg/endpoints/filters.withAuthentication.func1",
		"net/http.HandlerFunc.ServeHTTP", "k8s.io/apiserver/pkg/endpoints/filterlatency.trackStarted.func1",
		"net/http.HandlerFunc.ServeHTTP",
		"k8s.io/apiserver/pkg/server.DefaultBuildHandlerChain.WithWarningRecorder.func11",
		"net/http.HandlerFunc.ServeHTTP", "k8s.io/apiserver/pkg/server/filters.(*timeoutHandler).ServeHTTP.func1",
		"runtime.goexit" } },
	{ CAT_AUTHENTICATION, 0, { "runtime.newobject", "k8s.io/apiserver/pkg/authentication/request/x509.init.func1",
		"k8s.io/apiserver/pkg/authentication/request/x509.UserConversionFunc.User",
		"k8s.io/apiserver/pkg/authentication/request/x509.(*Authenticator).AuthenticateRequest",
		"k8s.io/apiserver/pkg/authentication/request/union.(*unionAuthRequestHandler).AuthenticateRequest",
		"k8s.io/apiserver/pkg/authentication/group.(*AuthenticatedGroupAdder).AuthenticateRequest",
		"k8s.io/apiserver/pkg/endpoints/filters.withAuthentication.func1" } },
	{ CAT_AUTHORIZATION, 0, { "k8s.io/apiserver/pkg/authorization/union.unionAuthzHandler.Authorize",
		"k8s.io/apiserver/pkg/authorization/union.(*unionAuthzHandler).Authorize",
		"k8s.io/apiserver/pkg/endpoints/filters.withAuthorization.func1", "net/http.HandlerFunc.ServeHTTP",
		"k8s.io/apiserver/pkg/endpoints/filterlatency.trackStarted.func1", "net/http.HandlerFunc.ServeHTTP",
		"k8s.io/apiserver/pkg/server.DefaultBuildHandlerChain.TrackCompleted.trackCompleted.func23.deferwrap1",
		"k8s.io/apiserver/pkg/server.DefaultBuildHandlerChain.TrackCompleted.trackCompleted.func23",
		"net/http.HandlerFunc.ServeHTTP",
		"k8s.io/apiserver/pkg/server/filters.(*priorityAndFairnessHandler).Handle.func10" } },
	{ CAT_ADMISSION, 0, { "runtime.newobject", "k8s.io/apiserver/pkg/admission.NewAttributesRecord",
		"k8s.io/apiextensions-apiserver/pkg/apiserver.(*crdHandler).serveResource.PatchResource.func5",
		"k8s.io/apiextensions-apiserver/pkg/apiserver.(*crdHandler).ServeHTTP.InstrumentHandlerFunc.func1",
		"net/http.HandlerFunc.ServeHTTP",
		"k8s.io/apiextensions-apiserver/pkg/apiserver.(*crdHandler).ServeHTTP.WithWaitGroup.withWaitGroup.func2",
		"net/http.HandlerFunc.ServeHTTP", "k8s.io/apiextensions-apiserver/pkg/apiserver.(*crdHandler).ServeHTTP",
		"k8s.io/apiserver/pkg/server/mux.(*pathHandler).ServeHTTP" } },
	{ CAT_CONVERSION, 0, { "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured.NestedString",
		"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured.getNestedString",
		"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured.(*Unstructured).GetAPIVersion",
		"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured.(*Unstructured).GroupVersionKind",
		"k8s.io/apiextensions-apiserver/pkg/apiserver/conversion.(*crConverter).ConvertToVersion",
		"k8s.io/apiextensions-apiserver/pkg/apiserver/conversion.(*safeConverterWrapper).ConvertToVersion",
		"k8s.io/apimachinery/pkg/runtime/serializer/versioning.(*codec).doEncode" } },
	/* the converter's deep copy of a list is conversion; the watch cache's copy is the watch cache's */
	{ CAT_CONVERSION, 0, { "aeshashbody", "k8s.io/apimachinery/pkg/runtime.DeepCopyJSONValue",
		"k8s.io/apimachinery/pkg/runtime.DeepCopyJSON",
		"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured.(*Unstructured).DeepCopy",
		"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured.(*Unstructured).DeepCopyInto",
		"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured.(*UnstructuredList).DeepCopy",
		"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured.(*UnstructuredList).DeepCopyObject",
		"k8s.io/apiextensions-apiserver/pkg/apiserver/conversion.(*safeConverterWrapper).ConvertToVersion" } },
	{ CAT_WATCH_CACHE, 0, { "runtime.mapassign_faststr", "k8s.io/apimachinery/pkg/runtime.DeepCopyJSONValue",
		"k8s.io/apimachinery/pkg/runtime.DeepCopyJSONValue", "k8s.io/apimachinery/pkg/runtime.DeepCopyJSON",
		"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured.(*Unstructured).DeepCopy",
		"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured.(*Unstructured).DeepCopyObject",
		"k8s.io/apiserver/pkg/storage/cacher.(*cachingObject).GetObject",
		"k8s.io/apiserver/pkg/storage/cacher.(*cachingObject).CacheEncode.func1" } },
	{ CAT_WATCH_CACHE, 0, { "aeshashbody", "k8s.io/apiserver/pkg/storage/cacher.(*cachingObject).getSerializationResult",
		"k8s.io/apiserver/pkg/storage/cacher.(*cachingObject).CacheEncode",
		"k8s.io/apiserver/pkg/endpoints/handlers.(*watchEncoder).Encode",
		"k8s.io/apiserver/pkg/endpoints/handlers.(*WatchServer).HandleHTTP" } },
	{ CAT_WATCH_CACHE, 0, { "runtime.lock2", "runtime.lockWithRank", "runtime.lock", "runtime.chansend",
		"runtime.chansend1", "k8s.io/apiserver/pkg/storage/cacher.(*Cacher).processEvent",
		"k8s.io/apiserver/pkg/storage/cacher.(*Cacher).processEvent-fm",
		"k8s.io/apiserver/pkg/storage/cacher.(*watchCache).UpdateResourceVersion",
		"k8s.io/client-go/tools/cache.(*Reflector).watch.func2" } },
	{ CAT_ETCD_CLIENT, 0, { "k8s.io/apiserver/pkg/storage/etcd3.(*store).Create",
		"k8s.io/apiserver/pkg/storage/cacher.(*CacheDelegator).Create",
		"k8s.io/apiserver/pkg/registry/generic/registry.(*DryRunnableStorage).Create",
		"k8s.io/apiserver/pkg/registry/generic/registry.(*Store).create" } },
	{ CAT_ETCD_CLIENT, 0, { "internal/runtime/atomic.(*Uint32).CompareAndSwap", "runtime.(*waitq).dequeue",
		"runtime.selectgo", "k8s.io/apiserver/pkg/storage/etcd3.(*watchChan).sendEvent",
		"k8s.io/apiserver/pkg/storage/etcd3.(*watchChan).serialProcessEvents",
		"k8s.io/apiserver/pkg/storage/etcd3.(*watchChan).processEvents.gowrap1", "runtime.goexit" } },
	{ CAT_HTTP_FILTERS, 0, { "runtime.selectgo", "k8s.io/apiserver/pkg/server/filters.(*timeoutHandler).ServeHTTP",
		"k8s.io/apiserver/pkg/server.DefaultBuildHandlerChain.WithRequestDeadline.withRequestDeadline.func28",
		"net/http.HandlerFunc.ServeHTTP" } },
	{ CAT_HTTP_FILTERS, 0, { "k8s.io/apiserver/pkg/util/flowcontrol/fairqueuing/queueset.(*queueSet).syncTimeLocked",
		"k8s.io/apiserver/pkg/util/flowcontrol/fairqueuing/queueset.(*queueSet).lockAndSyncTime",
		"k8s.io/apiserver/pkg/util/flowcontrol/fairqueuing/queueset.(*queueSet).finishRequestAndDispatchAsMuchAsPossible",
		"k8s.io/apiserver/pkg/util/flowcontrol.(*configController).Handle",
		"k8s.io/apiserver/pkg/server/filters.(*priorityAndFairnessHandler).Handle" } },
	{ CAT_HTTP_FILTERS, 0, { "context.value", "context.(*valueCtx).Value", "go.opentelemetry.io/otel/trace.SpanFromContext",
		"go.opentelemetry.io/otel/trace/noop.Tracer.Start", "go.opentelemetry.io/otel/trace/noop.(*Tracer).Start",
		"k8s.io/apiserver/pkg/endpoints/filterlatency.trackStarted.func1", "net/http.HandlerFunc.ServeHTTP" } },
	/* a filter decides only for itself: handler code under it stops the search (other) */
	{ CAT_OTHER, 0, { "k8s.io/apiserver/pkg/endpoints/handlers.isTooLargeError",
		"k8s.io/apiserver/pkg/endpoints/handlers/finisher.finishRequest.func1", "runtime.goexit" } },
	{ CAT_OTHER, 0, { "context.value", "context.(*valueCtx).Value",
		"k8s.io/apiserver/pkg/endpoints/request.LatencyTrackersFrom",
		"k8s.io/apiserver/pkg/endpoints/request.TrackTransformResponseObjectLatency",
		"k8s.io/apiserver/pkg/endpoints/handlers.transformResponseObject",
		"k8s.io/apiextensions-apiserver/pkg/apiserver.(*crdHandler).serveResource.CreateResource.createHandler.func9",
		"k8s.io/apiextensions-apiserver/pkg/apiserver.(*crdHandler).ServeHTTP.InstrumentHandlerFunc.func1",
		"net/http.HandlerFunc.ServeHTTP",
		"k8s.io/apiextensions-apiserver/pkg/apiserver.(*crdHandler).ServeHTTP.WithWaitGroup.withWaitGroup.func2",
		"net/http.HandlerFunc.ServeHTTP", "k8s.io/apiserver/pkg/server.DefaultBuildHandlerChain.WithAuthorization.withAuthorization.func3" } },
	/* ... while allocation there is still gc (the weak match wins at the stop) */
	{ CAT_GC, 0, { "runtime.mallocgc", "runtime.newobject", "k8s.io/apiserver/pkg/endpoints/handlers.transformResponseObject",
		"k8s.io/apiserver/pkg/endpoints/filters.withAuthorization.func1" } },
	/* HTTP/2's stream goroutine is further out than the handler: not http2 */
	{ CAT_OTHER, 0, { "main.(*store).list", "main.handleList", "net/http.HandlerFunc.ServeHTTP",
		"net/http.serverHandler.ServeHTTP", "net/http.initALPNRequest.ServeHTTP",
		"net/http.(*http2serverConn).runHandler" } },
	{ CAT_HTTP2, 0, { "net/http.(*http2serverConn).writeHeaders", "net/http.(*http2serverConn).runHandler" } },
	{ CAT_AUTHENTICATION, 0, { "runtime.mapaccess1_faststr",
		"k8s.io/apiserver/pkg/server.DefaultBuildHandlerChain.WithAuthentication.withAuthentication.func7" } },
	{ CAT_VALIDATION, 0, { "k8s.io/kube-openapi/pkg/validation/validate.(*SchemaValidator).Validate",
		"k8s.io/apiextensions-apiserver/pkg/registry/customresource.customResourceValidator.Validate",
		"k8s.io/apiextensions-apiserver/pkg/registry/customresource.customResourceStrategy.Validate",
		"k8s.io/apiserver/pkg/registry/rest.BeforeCreate" } },
	{ CAT_VALIDATION, 0, { "k8s.io/kubernetes/pkg/apis/core/validation.ValidatePodSpec",
		"k8s.io/kubernetes/pkg/apis/core/validation.ValidatePodCreate",
		"k8s.io/kubernetes/pkg/registry/core/pod.podStrategy.Validate" } },
	{ CAT_CONVERSION, 0, { "k8s.io/kubernetes/pkg/apis/core/v1.SetDefaults_PodSpec",
		"k8s.io/kubernetes/pkg/apis/core/v1.SetObjectDefaults_Pod", "k8s.io/apimachinery/pkg/runtime.(*Scheme).Default" } },
	{ CAT_TLS, 0, { "p256MulInternal" } },
	/* --- other, unknown ------------------------------------------------------ */
	{ CAT_HTTP_FILTERS, 0, { "runtime.mapaccess2_faststr", "k8s.io/apiserver/pkg/endpoints/request.(*RequestInfoFactory).NewRequestInfo" } },
	{ CAT_OTHER, 0, { "runtime.schedule", "runtime.park_m", "runtime.mcall" } },
	{ CAT_CONVERSION, 0, { "k8s.io/api/core/v1.Convert_v1_Pod_To_core_Pod",
		"k8s.io/apimachinery/pkg/runtime/serializer/versioning.(*codec).Encode" } },
	{ CAT_OTHER, 0, { "os.(*fileStat).Size", "main.main" } },
	{ CAT_OTHER, 0, { "sort.insertionSort", "main.(*store).list" } },
	{ CAT_UNKNOWN, 0, { "[unknown] libfoo.so+0x1234", "main.main" } }, /* leaf unknown, nothing matched */
	{ CAT_OTHER, 0, { "encoding/json.cachedTypeFields", "main.init" } },
	{ CAT_OTHER, 0, { "type:.eq.k8s.io/api/core/v1.PodSpec", "reflect.DeepEqual" } },
	{ CAT_UNKNOWN, 0, { "[unknown]", "[unknown]" } },
	{ CAT_UNKNOWN, 0, { "[unknown] libfoo.so+0x1234" } },
	{ CAT_JSON_DECODE, 0, { "[unknown]", "encoding/json.(*decodeState).object" } },
	{ CAT_GC, 0, { "[unknown] libc.so.6+0x9a1b0", "runtime.mallocgc", "main.main" } },
};

static int nframes(const struct tcase *c)
{
	int n = 0;

	while (n < MAXF && c->f[n])
		n++;
	return n;
}

static void test_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		bool kernel[MAXF] = { 0 };
		int n = nframes(c), k;
		enum cpu_category got;

		for (k = 0; k < c->nkernel; k++)
			kernel[k] = true;
		got = classify__stack(c->f, kernel, n);
		CHECK(got == c->want, "stack %zu (leaf '%s'): got %s, want %s", i, c->f[0],
		      classify__name(got), classify__name(c->want));
	}
	CHECK(i >= 60, "only %zu stacks", i);
	printf("  %zu stacks classified\n", i);
}

static void test_names(void)
{
	int c;

	for (c = 0; c < CAT__COUNT; c++)
		CHECK_INT(classify__from_name(classify__name(c)), c);
	CHECK_STR(classify__name(CAT_JSON_ENCODE), "json_encode");
	CHECK_STR(classify__name(CAT_ETCD_STORAGE), "etcd_storage");
	CHECK_STR(classify__name(CAT_UNKNOWN), "unknown");
	CHECK_STR(classify__name(CAT__COUNT), "invalid");
	CHECK_INT(classify__from_name("nope"), -1);
}

static void test_edges(void)
{
	const char *one[] = { "encoding/json.Marshal" };
	const char *nul[] = { NULL, "compress/flate.(*compressor).deflate" };
	const char *lng[] = { NULL };
	char big[2048];
	bool weak;

	CHECK_INT(classify__stack(NULL, NULL, 0), CAT_UNKNOWN);
	CHECK_INT(classify__stack(one, NULL, 0), CAT_UNKNOWN);
	CHECK_INT(classify__stack(one, NULL, 1), CAT_JSON_ENCODE);
	CHECK_INT(classify__stack(nul, NULL, 2), CAT_GZIP);
	CHECK_INT(classify__frame("runtime.mallocgc", &weak), CAT_GC);
	CHECK(weak, "mallocgc is weak");
	CHECK_INT(classify__frame("runtime.gcDrainN", &weak), CAT_GC);
	CHECK(!weak, "gcDrainN is strong");
	CHECK_INT(classify__frame("compress/flatex.Foo", NULL), -1);
	CHECK_INT(classify__frame("cryptox/foo.Bar", NULL), -1);
	CHECK_INT(classify__frame("encoding/jsonx.Marshal", NULL), -1);
	/* generic arguments that name other packages do not leak into the match */
	CHECK_INT(classify__frame("sync.(*Map[go.shape.string,encoding/json.Marshal]).Load", NULL), -1);
	CHECK_INT(classify__frame("sort.Slice[k8s.io/kubernetes/vendor/crypto/tls.x]", NULL), -1);
	/* very long names are cut, not overrun */
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "compress/flate.", 15);
	big[sizeof(big) - 1] = '\0';
	lng[0] = big;
	CHECK_INT(classify__stack(lng, NULL, 1), CAT_GZIP);
}

int main(void)
{
	test_table();
	test_names();
	test_edges();
	return check_summary("test_classify");
}

// The only C in tsbpf: thin wrappers over the system calls BPF needs, and fd readiness on the
// Node event loop. Every wrapper returns the kernel's result, or -errno on failure, so all
// decisions (typed errors, retries, remedies) are made in TypeScript (src/sys).
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, "TSBPF_NATIVE", "N-API call failed: " #call); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

static napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

static napi_value result_or_errno(napi_env env, long rc) {
  return make_int(env, rc < 0 ? -errno : rc);
}

// Reads an integer argument given as a Number or a BigInt.
static int get_i64(napi_env env, napi_value v, int64_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_bigint) {
    bool lossless;
    return napi_get_value_bigint_int64(env, v, out, &lossless) == napi_ok;
  }
  return t == napi_number && napi_get_value_int64(env, v, out) == napi_ok;
}

// Bytes per element of a typed array type (looking BYTES_PER_ELEMENT up by name costs more
// than the system call it precedes).
static size_t element_size(napi_typedarray_type t) {
  switch (t) {
    case napi_int16_array:
    case napi_uint16_array:
      return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array:
      return 4;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array:
      return 8;
    default:
      return 1;
  }
}

// The bytes behind a Buffer, TypedArray or DataView. Asking V8 for the data materialises an
// on-heap typed array off-heap, so the pointer stays valid while JS holds the view.
static int get_bytes(napi_env env, napi_value v, void **data, size_t *len) {
  bool is_typed, is_dv;
  napi_is_typedarray(env, v, &is_typed);
  if (is_typed) {
    napi_typedarray_type type;
    size_t count, offset;
    napi_value ab;
    if (napi_get_typedarray_info(env, v, &type, &count, data, &ab, &offset) != napi_ok) return 0;
    size_t elem = element_size(type);
    *len = count * elem;
    return 1;
  }
  napi_is_dataview(env, v, &is_dv);
  if (is_dv) {
    napi_value ab;
    size_t offset;
    return napi_get_dataview_info(env, v, len, data, &ab, &offset) == napi_ok;
  }
  return 0;
}

static napi_value get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < want) {
    napi_throw_type_error(env, "TSBPF_NATIVE", "too few arguments");
    return NULL;
  }
  return argv[0];
}

// bpf(cmd, attr: Uint8Array) -> result or -errno. The kernel may write into attr.
static napi_value js_bpf(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  int64_t cmd;
  void *attr;
  size_t size;
  if (!get_i64(env, argv[0], &cmd) || !get_bytes(env, argv[1], &attr, &size)) {
    napi_throw_type_error(env, "TSBPF_NATIVE", "bpf(cmd: number, attr: Uint8Array)");
    return NULL;
  }
  return result_or_errno(env, syscall(__NR_bpf, (int)cmd, attr, (unsigned int)size));
}

// addressOf(view) -> BigInt address of the view's first byte, for pointers inside bpf_attr.
static napi_value js_address_of(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  void *data;
  size_t size;
  if (!get_bytes(env, argv[0], &data, &size)) {
    napi_throw_type_error(env, "TSBPF_NATIVE", "addressOf(view: ArrayBufferView)");
    return NULL;
  }
  napi_value out;
  CHECK(napi_create_bigint_uint64(env, (uint64_t)(uintptr_t)data, &out));
  return out;
}

// perfEventOpen(attr: Uint8Array, pid, cpu, groupFd, flags) -> fd or -errno.
static napi_value js_perf_event_open(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv)) return NULL;
  void *attr;
  size_t size;
  int64_t pid, cpu, group, flags;
  if (!get_bytes(env, argv[0], &attr, &size) || !get_i64(env, argv[1], &pid) || !get_i64(env, argv[2], &cpu) ||
      !get_i64(env, argv[3], &group) || !get_i64(env, argv[4], &flags)) {
    napi_throw_type_error(env, "TSBPF_NATIVE", "perfEventOpen(attr, pid, cpu, groupFd, flags)");
    return NULL;
  }
  return result_or_errno(env, syscall(__NR_perf_event_open, attr, (pid_t)pid, (int)cpu, (int)group, (unsigned long)flags));
}

// ioctl(fd, request, arg: number | bigint | Uint8Array) -> result or -errno.
static napi_value js_ioctl(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv)) return NULL;
  int64_t fd, req, arg;
  void *ptr;
  size_t size;
  if (!get_i64(env, argv[0], &fd) || !get_i64(env, argv[1], &req)) {
    napi_throw_type_error(env, "TSBPF_NATIVE", "ioctl(fd, request, arg)");
    return NULL;
  }
  if (get_bytes(env, argv[2], &ptr, &size)) return result_or_errno(env, ioctl((int)fd, (unsigned long)req, ptr));
  if (!get_i64(env, argv[2], &arg)) {
    napi_throw_type_error(env, "TSBPF_NATIVE", "ioctl arg must be a number, bigint or Uint8Array");
    return NULL;
  }
  return result_or_errno(env, ioctl((int)fd, (unsigned long)req, (unsigned long)arg));
}

// close(fd) -> 0 or -errno.
static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  int64_t fd;
  if (!get_i64(env, argv[0], &fd)) {
    napi_throw_type_error(env, "TSBPF_NATIVE", "close(fd: number)");
    return NULL;
  }
  return result_or_errno(env, close((int)fd));
}

// mmap(fd, length, prot, flags, offset) -> ArrayBuffer over the mapping, or -errno.
// munmap(buffer) unmaps at once and detaches the buffer, so stale views read as empty; a buffer
// dropped without munmap is unmapped when it is garbage collected. Live mappings are kept in a
// list so the two paths never unmap twice (all of this runs on the JS thread).
typedef struct mapping {
  void *addr;
  size_t length;
  int unmapped;
  struct mapping *next;
} mapping;

static mapping *live_mappings;

static void mapping_forget(mapping *m) {
  for (mapping **pp = &live_mappings; *pp; pp = &(*pp)->next) {
    if (*pp == m) {
      *pp = m->next;
      return;
    }
  }
}

static void mapping_finalizer(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  mapping *m = (mapping *)hint;
  if (!m->unmapped) munmap(m->addr, m->length);
  mapping_forget(m);
  free(m);
}

static napi_value js_mmap(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv)) return NULL;
  int64_t fd, length, prot, flags, offset;
  if (!get_i64(env, argv[0], &fd) || !get_i64(env, argv[1], &length) || !get_i64(env, argv[2], &prot) ||
      !get_i64(env, argv[3], &flags) || !get_i64(env, argv[4], &offset) || length <= 0) {
    napi_throw_type_error(env, "TSBPF_NATIVE", "mmap(fd, length > 0, prot, flags, offset)");
    return NULL;
  }
  mapping *m = calloc(1, sizeof(*m));
  if (!m) return make_int(env, -ENOMEM);
  m->addr = mmap(NULL, (size_t)length, (int)prot, (int)flags, (int)fd, (off_t)offset);
  if (m->addr == MAP_FAILED) {
    int err = errno;
    free(m);
    return make_int(env, -err);
  }
  m->length = (size_t)length;
  napi_value ab;
  if (napi_create_external_arraybuffer(env, m->addr, m->length, mapping_finalizer, m, &ab) != napi_ok) {
    munmap(m->addr, m->length);
    free(m);
    napi_throw_error(env, "TSBPF_NATIVE", "cannot wrap the mapping in an ArrayBuffer");
    return NULL;
  }
  m->next = live_mappings;
  live_mappings = m;
  return ab;
}

// munmap(buffer) -> 0 or -errno (-EINVAL for a buffer mmap did not make).
static napi_value js_munmap(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  bool detached = false;
  if (napi_is_detached_arraybuffer(env, argv[0], &detached) != napi_ok) return make_int(env, -EINVAL);
  if (detached) return make_int(env, 0);
  void *data;
  size_t length;
  if (napi_get_arraybuffer_info(env, argv[0], &data, &length) != napi_ok) return make_int(env, -EINVAL);
  for (mapping *m = live_mappings; m; m = m->next) {
    if (m->addr == data && !m->unmapped) {
      int rc = munmap(m->addr, m->length);
      if (rc < 0) return make_int(env, -errno);
      m->unmapped = 1;
      napi_detach_arraybuffer(env, argv[0]);
      return make_int(env, 0);
    }
  }
  return make_int(env, -EINVAL);
}

// Readiness: poll(fd, events, callback(status, events)) returns a handle; pollStop(handle) ends
// it. Built on uv_poll_t so waiting never blocks a thread.
typedef struct {
  uv_poll_t handle;
  napi_env env;
  napi_ref callback;
  int closed;     // stopped: no more callbacks
  int uv_closed;  // libuv is done with the handle
  int finalized;  // the JS handle object is gone (or was never made)
} poller;

// The poller is freed once both libuv and the JS handle object are done with it.
static void poll_release(poller *p) {
  if (p->uv_closed && p->finalized) free(p);
}

static void poll_closed(uv_handle_t *h) {
  poller *p = (poller *)h->data;
  p->uv_closed = 1;
  poll_release(p);
}

static void poll_stop(poller *p) {
  if (p->closed) return;
  p->closed = 1;
  uv_poll_stop(&p->handle);
  napi_delete_reference(p->env, p->callback);
  uv_close((uv_handle_t *)&p->handle, poll_closed);
}

static void poll_event(uv_poll_t *h, int status, int events) {
  poller *p = (poller *)h->data;
  if (p->closed) return;
  napi_env env = p->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, global, argv[2];
  if (napi_get_reference_value(env, p->callback, &cb) == napi_ok && cb) {
    napi_get_global(env, &global);
    argv[0] = make_int(env, status);
    argv[1] = make_int(env, events);
    napi_value ignored;
    napi_status st = napi_make_callback(env, NULL, global, cb, 2, argv, &ignored);
    if (st == napi_pending_exception) {
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      napi_fatal_exception(env, exc);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void poll_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  poller *p = (poller *)data;
  p->finalized = 1;
  poll_stop(p);
  poll_release(p);
}

static napi_value js_poll(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv)) return NULL;
  int64_t fd, events;
  napi_valuetype t;
  napi_typeof(env, argv[2], &t);
  if (!get_i64(env, argv[0], &fd) || !get_i64(env, argv[1], &events) || t != napi_function) {
    napi_throw_type_error(env, "TSBPF_NATIVE", "poll(fd, events, callback)");
    return NULL;
  }
  struct uv_loop_s *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  poller *p = calloc(1, sizeof(*p));
  if (!p) return make_int(env, -ENOMEM);
  p->env = env;
  p->handle.data = p;
  int rc = uv_poll_init(loop, &p->handle, (int)fd);
  if (rc < 0) {
    free(p);
    return make_int(env, rc);  // libuv errors are -errno on Linux
  }
  napi_create_reference(env, argv[2], 1, &p->callback);
  rc = uv_poll_start(&p->handle, (int)events, poll_event);
  if (rc < 0) {
    p->finalized = 1;  // no JS handle will own it
    poll_stop(p);
    return make_int(env, rc);
  }
  napi_value handle;
  CHECK(napi_create_external(env, p, poll_finalize, NULL, &handle));
  return handle;
}

static napi_value js_poll_stop(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  void *p;
  if (napi_get_value_external(env, argv[0], &p) != napi_ok) {
    napi_throw_type_error(env, "TSBPF_NATIVE", "pollStop(handle)");
    return NULL;
  }
  poll_stop((poller *)p);
  return make_int(env, 0);
}

// pollRef(handle, on): whether an active poll keeps the process alive.
static napi_value js_poll_ref(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  void *p;
  bool on;
  if (napi_get_value_external(env, argv[0], &p) != napi_ok || napi_get_value_bool(env, argv[1], &on) != napi_ok) {
    napi_throw_type_error(env, "TSBPF_NATIVE", "pollRef(handle, on: boolean)");
    return NULL;
  }
  poller *pp = (poller *)p;
  if (!pp->closed) {
    if (on) uv_ref((uv_handle_t *)&pp->handle);
    else uv_unref((uv_handle_t *)&pp->handle);
  }
  return make_int(env, 0);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"bpf", NULL, js_bpf, NULL, NULL, NULL, napi_enumerable, NULL},
      {"addressOf", NULL, js_address_of, NULL, NULL, NULL, napi_enumerable, NULL},
      {"perfEventOpen", NULL, js_perf_event_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ioctl", NULL, js_ioctl, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mmap", NULL, js_mmap, NULL, NULL, NULL, napi_enumerable, NULL},
      {"munmap", NULL, js_munmap, NULL, NULL, NULL, napi_enumerable, NULL},
      {"poll", NULL, js_poll, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pollStop", NULL, js_poll_stop, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pollRef", NULL, js_poll_ref, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)

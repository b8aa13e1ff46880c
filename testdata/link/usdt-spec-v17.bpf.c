// The __bpf_usdt_specs map as libbpf 1.7's usdt.bpf.h declares it on little-endian machines
// (argument specs with SIB fields in bitfields), so tests can check that the spec layout is
// read from an object's BTF. Only the types matter; there is no program.
typedef unsigned short __u16;
typedef unsigned char __u8;
typedef unsigned long long __u64;
enum usdt_arg_type { ARG_CONST, ARG_REG, ARG_REG_DEREF, ARG_SIB };

struct __bpf_usdt_arg_spec {
  __u64 val_off;
  enum usdt_arg_type arg_type : 8;
  __u16 idx_reg_off : 12;
  __u16 scale_bitshift : 4;
  __u8 __reserved : 8;
  short reg_off;
  _Bool arg_signed;
  char arg_bitshift;
};

struct __bpf_usdt_spec {
  struct __bpf_usdt_arg_spec args[12];
  __u64 usdt_cookie;
  short arg_cnt;
};

struct {
  int (*type)[2];           /* BPF_MAP_TYPE_ARRAY */
  int (*max_entries)[256];
  int *key;
  struct __bpf_usdt_spec *value;
} __bpf_usdt_specs __attribute__((section(".maps"), used));

char LICENSE[] __attribute__((section("license"), used)) = "GPL";

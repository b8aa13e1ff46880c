/**
 * The format language of bpf_trace_printk (kernel/trace/bpf_trace.c, bpf_bprintf_prepare):
 * %d %i %u %x %X with l/ll length modifiers, %c, %s, %p/%px/%pK, %%, plus flags and a
 * width, applied to up to three 64-bit arguments.
 */

/** Reads a C string for %s; returns undefined when the pointer is unreadable. */
export type StringReader = (addr: bigint) => string | undefined;

/** Formats `fmt` with 64-bit arguments the way bpf_trace_printk prints them. */
export function formatPrintk(fmt: string, args: readonly bigint[], readString: StringReader): string {
  let out = '';
  let arg = 0;
  const next = (): bigint => (arg < args.length ? args[arg++]! : 0n);
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i]!;
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const m = /^%([-+ 0#]*)(\d*)(ll|l|h|hh|z)?([diuxXcsp%])(x|K|s|ks|us)?/.exec(fmt.slice(i));
    if (!m) {
      out += ch;
      continue;
    }
    const [whole, flags = '', widthText = '', length = '', conv = '', pext = ''] = m;
    let consumed = whole.length;
    if (conv !== 'p') consumed -= pext.length;
    // The kernel's output buffer is small; a silly width must not exhaust memory here.
    const width = widthText ? Math.min(Number(widthText), 512) : 0;
    let text: string;
    const bits = length === 'll' || length === 'l' || length === 'z' ? 64 : length === 'h' ? 16 : length === 'hh' ? 8 : 32;
    switch (conv) {
      case '%':
        text = '%';
        break;
      case 'd':
      case 'i': {
        const v = BigInt.asIntN(bits, next());
        text = (v >= 0n && flags.includes('+') ? '+' : v >= 0n && flags.includes(' ') ? ' ' : '') + v.toString();
        break;
      }
      case 'u':
        text = BigInt.asUintN(bits, next()).toString();
        break;
      case 'x':
      case 'X': {
        const v = BigInt.asUintN(bits, next()).toString(16);
        text = (flags.includes('#') && v !== '0' ? '0x' : '') + (conv === 'X' ? v.toUpperCase() : v);
        break;
      }
      case 'c':
        text = String.fromCharCode(Number(next() & 0xffn));
        break;
      case 's':
        text = readString(next()) ?? '(efault)';
        break;
      default: {
        // %p, %px, %pK print the pointer in hex; %ps/%pks/%pus print a string.
        if (pext === 's' || pext === 'ks' || pext === 'us') {
          text = readString(next()) ?? '(efault)';
        } else {
          text = '0x' + BigInt.asUintN(64, next()).toString(16);
        }
      }
    }
    if (text.length < width) {
      const zero = flags.includes('0') && !flags.includes('-') && 'diuxX'.includes(conv);
      if (flags.includes('-')) text = text.padEnd(width);
      else if (zero) {
        const sign = /^[+ -]/.test(text) ? text[0]! : '';
        text = sign + text.slice(sign.length).padStart(width - sign.length, '0');
      } else text = text.padStart(width);
    }
    out += text;
    i += consumed - 1;
  }
  return out;
}

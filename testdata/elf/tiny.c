/* Fixture for the ELF reader tests: an x86_64 shared library (segments, .dynsym, notes) and the
 * same source as a relocatable object (RELA relocations, a COMMON symbol). */
int tiny_common;
static int counter;
const char tiny_name[] = "tiny";

/* A note of our own next to the build ID: name "tiny" (padded to 8), type 0x1234, 8-byte desc. */
__asm__(".pushsection .note.tiny, \"a\", @note\n"
	".balign 4\n"
	".long 5\n.long 8\n.long 0x1234\n"
	".asciz \"tiny\"\n.balign 4\n"
	".quad 0x0102030405060708\n"
	".popsection\n");

int tiny_next(void)
{
	return ++counter + tiny_common;
}

int tiny_add(int a, int b)
{
	return a + b + tiny_next();
}

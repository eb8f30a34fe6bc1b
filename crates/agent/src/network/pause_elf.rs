//! The pause program: the smallest static Linux executable that sleeps forever, so the pause
//! image needs no compiler, no libc and no registry. It has no signal handling: as PID 1 of its
//! namespace the kernel ignores SIGTERM for it, and the agent ends it with SIGKILL. It never
//! has children, so it need not reap them.

/// The executable for this machine's architecture, when Berth carries one.
#[cfg(target_arch = "x86_64")]
pub(super) const BINARY: Option<&[u8]> = Some(&X86_64);

/// The executable for this machine's architecture, when Berth carries one.
#[cfg(not(target_arch = "x86_64"))]
pub(super) const BINARY: Option<&[u8]> = None;

/// An ELF64 file of 129 bytes: its header (64 bytes), one program header (56 bytes) that maps
/// the whole file at 0x400000, and 9 bytes of code at offset 120. Every number is little-endian.
#[cfg(target_arch = "x86_64")]
#[rustfmt::skip]
const X86_64: [u8; 129] = [
    // --- ELF header ---
    0x7f, b'E', b'L', b'F', // e_ident[0..4]: the magic number
    2,                      // EI_CLASS: ELFCLASS64, a 64-bit file
    1,                      // EI_DATA: ELFDATA2LSB, little-endian
    1,                      // EI_VERSION: EV_CURRENT
    0,                      // EI_OSABI: System V (Linux accepts it)
    0,                      // EI_ABIVERSION
    0, 0, 0, 0, 0, 0, 0,    // EI_PAD: up to 16 bytes of e_ident
    2, 0,                   // e_type: ET_EXEC, an executable at a fixed address
    0x3e, 0,                // e_machine: EM_X86_64
    1, 0, 0, 0,             // e_version: EV_CURRENT
    0x78, 0, 0x40, 0, 0, 0, 0, 0, // e_entry: 0x400078, the code (file offset 120, mapped at 0x400000)
    64, 0, 0, 0, 0, 0, 0, 0,      // e_phoff: the program header follows this header
    0, 0, 0, 0, 0, 0, 0, 0,       // e_shoff: no section headers (the kernel never reads them)
    0, 0, 0, 0,             // e_flags: none are defined for x86-64
    64, 0,                  // e_ehsize: this header's size
    56, 0,                  // e_phentsize: a program header's size
    1, 0,                   // e_phnum: one program header
    0, 0,                   // e_shentsize: no section headers
    0, 0,                   // e_shnum: none
    0, 0,                   // e_shstrndx: no section name table
    // --- program header: one loadable segment ---
    1, 0, 0, 0,             // p_type: PT_LOAD
    5, 0, 0, 0,             // p_flags: PF_R | PF_X, readable and executable
    0, 0, 0, 0, 0, 0, 0, 0,       // p_offset: from the file's first byte
    0, 0, 0x40, 0, 0, 0, 0, 0,    // p_vaddr: 0x400000, the usual base of an executable
    0, 0, 0x40, 0, 0, 0, 0, 0,    // p_paddr: the same (unused on Linux)
    129, 0, 0, 0, 0, 0, 0, 0,     // p_filesz: the whole file
    129, 0, 0, 0, 0, 0, 0, 0,     // p_memsz: nothing more (no data, no stack of its own needed)
    0, 0x10, 0, 0, 0, 0, 0, 0,    // p_align: 0x1000, a page
    // --- code, at 0x400078 ---
    0xb8, 0x22, 0, 0, 0,    // mov eax, 34: the number of pause(2)
    0x0f, 0x05,             // syscall: sleep until a signal arrives
    0xeb, 0xf7,             // jmp -9: back to the mov, should a signal ever wake it
];

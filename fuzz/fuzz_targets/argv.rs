//! Every program's main on arbitrary arguments (the first byte picks the program, the rest is
//! split on NUL into words), in this process, under a seccomp filter that refuses every call
//! that could reach or change the kernel's network state or the files: sockets, ioctls, mounts,
//! namespaces, exec, fork, signals, writes to any file opened. What remains is the parsing and
//! every error path after it. scripts/fuzz.sh also runs the fuzzer in a throwaway network and
//! mount namespace.
#![no_main]
use libfuzzer_sys::fuzz_target;

/// `struct seccomp_data`: nr at 0, arch at 4, args from 16.
const NR: u32 = 0;
const ARCH: u32 = 4;
fn arg(i: u32) -> u32 {
    16 + 8 * i
}
/// AUDIT_ARCH_X86_64 and AUDIT_ARCH_AARCH64 from <linux/audit.h>.
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xc000_003e;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xc000_00b7;

fn stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}
fn jump(code: u32, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

fn refuse_kernel_changes() {
    use libc::*;
    let deny: &[c_long] = &[
        SYS_socket,
        SYS_socketpair,
        SYS_ioctl,
        SYS_mount,
        SYS_umount2,
        SYS_unshare,
        SYS_setns,
        SYS_execve,
        SYS_execveat,
        SYS_kill,
        SYS_tgkill,
        SYS_mkdirat,
        SYS_unlinkat,
        SYS_renameat2,
        SYS_symlinkat,
        SYS_linkat,
        SYS_fchmodat,
        SYS_fchownat,
        SYS_setuid,
        SYS_setgid,
        SYS_setgroups,
        SYS_setresuid,
        SYS_setresgid,
        SYS_capset,
        SYS_sethostname,
        SYS_chroot,
        SYS_pivot_root,
        SYS_prlimit64,
        SYS_bpf,
        SYS_ptrace,
    ];
    #[cfg(target_arch = "x86_64")]
    let deny = [
        deny,
        &[
            SYS_fork,
            SYS_vfork,
            SYS_mkdir,
            SYS_unlink,
            SYS_rmdir,
            SYS_rename,
            SYS_symlink,
            SYS_link,
            SYS_chmod,
            SYS_chown,
        ][..],
    ]
    .concat();
    let eperm = SECCOMP_RET_ERRNO | EPERM as u32;
    let enosys = SECCOMP_RET_ERRNO | ENOSYS as u32;
    let write_flags = (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND) as u32;
    let mut f = vec![
        stmt((BPF_LD | BPF_W | BPF_ABS) as u32, ARCH),
        jump((BPF_JMP | BPF_JEQ | BPF_K) as u32, AUDIT_ARCH, 1, 0),
        stmt(BPF_RET as u32 | BPF_K as u32, SECCOMP_RET_KILL_PROCESS),
        stmt((BPF_LD | BPF_W | BPF_ABS) as u32, NR),
    ];
    for nr in deny.iter() {
        f.push(jump((BPF_JMP | BPF_JEQ | BPF_K) as u32, *nr as u32, 0, 1));
        f.push(stmt(BPF_RET as u32 | BPF_K as u32, eperm));
    }
    // Threads only (libFuzzer starts one after init), no new process: clone with
    // CLONE_THREAD; clone3, whose flags a filter cannot read, says ENOSYS (glibc then clones).
    f.push(jump(
        (BPF_JMP | BPF_JEQ | BPF_K) as u32,
        SYS_clone3 as u32,
        0,
        1,
    ));
    f.push(stmt(BPF_RET as u32 | BPF_K as u32, enosys));
    f.push(jump(
        (BPF_JMP | BPF_JEQ | BPF_K) as u32,
        SYS_clone as u32,
        0,
        3,
    ));
    f.push(stmt((BPF_LD | BPF_W | BPF_ABS) as u32, arg(0)));
    f.push(jump(
        (BPF_JMP | BPF_JSET | BPF_K) as u32,
        CLONE_THREAD as u32,
        1,
        0,
    ));
    f.push(stmt(BPF_RET as u32 | BPF_K as u32, eperm));
    f.push(stmt((BPF_LD | BPF_W | BPF_ABS) as u32, NR));
    // openat(dirfd, path, flags): only for reading.
    f.push(jump(
        (BPF_JMP | BPF_JEQ | BPF_K) as u32,
        SYS_openat as u32,
        0,
        3,
    ));
    f.push(stmt((BPF_LD | BPF_W | BPF_ABS) as u32, arg(2)));
    f.push(jump((BPF_JMP | BPF_JSET | BPF_K) as u32, write_flags, 0, 1));
    f.push(stmt(BPF_RET as u32 | BPF_K as u32, eperm));
    f.push(stmt(BPF_RET as u32 | BPF_K as u32, SECCOMP_RET_ALLOW));
    #[cfg(target_arch = "x86_64")]
    {
        // open(path, flags) the same way, before the allow at the end.
        let allow = f.pop().expect("allow");
        f.push(stmt((BPF_LD | BPF_W | BPF_ABS) as u32, NR));
        f.push(jump(
            (BPF_JMP | BPF_JEQ | BPF_K) as u32,
            SYS_open as u32,
            0,
            3,
        ));
        f.push(stmt((BPF_LD | BPF_W | BPF_ABS) as u32, arg(1)));
        f.push(jump((BPF_JMP | BPF_JSET | BPF_K) as u32, write_flags, 0, 1));
        f.push(stmt(BPF_RET as u32 | BPF_K as u32, eperm));
        f.push(allow);
    }
    let prog = sock_fprog {
        len: f.len() as u16,
        filter: f.as_mut_ptr(),
    };
    // SAFETY: prctl and seccomp with valid arguments; `prog` and `f` outlive the calls (the
    // kernel copies the filter). TSYNC puts every thread of the fuzzer under the filter.
    let rc = unsafe {
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        syscall(
            SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            SECCOMP_FILTER_FLAG_TSYNC,
            &prog as *const sock_fprog,
        )
    };
    assert_eq!(rc, 0, "cannot install the seccomp filter");
}

fuzz_target!(
    init: {
        refuse_kernel_changes();
    },
    |data: &[u8]| {
        let Some((pick, rest)) = data.split_first() else {
            return;
        };
        let programs = netplumb::PROGRAMS;
        let (_, main) = programs[*pick as usize % programs.len()];
        let text = String::from_utf8_lossy(rest);
        let args: Vec<String> = if text.is_empty() {
            Vec::new()
        } else {
            text.split('\0').map(String::from).collect()
        };
        let _ = main(args);
    }
);

//! Capabilities. Nothing is refused up front: the kernel's errno is the final word (a user
//! namespace may grant CAP_NET_ADMIN to a user who is not root). After an EPERM, this tells
//! whether the capability was missing, so the message can say so.

/// `CAP_NET_ADMIN` from <linux/capability.h>.
pub const CAP_NET_ADMIN: u32 = 12;

/// Whether the calling thread holds `cap` in its effective set.
pub fn has_effective(cap: u32) -> bool {
    // <linux/capability.h>: struct __user_cap_header_struct, _LINUX_CAPABILITY_VERSION_3
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    // struct __user_cap_data_struct
    #[repr(C)]
    #[derive(Default, Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut h = Header {
        version: 0x2008_0522,
        pid: 0,
    };
    let mut d = [Data::default(); 2];
    // SAFETY: capget with version 3 writes exactly two Data structs.
    let r = unsafe { libc::syscall(libc::SYS_capget, &mut h as *mut Header, d.as_mut_ptr()) };
    r == 0 && d[(cap / 32) as usize].effective & (1 << (cap % 32)) != 0
}

pub fn has_net_admin() -> bool {
    has_effective(CAP_NET_ADMIN)
}

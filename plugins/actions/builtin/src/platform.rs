//! The one file-system call std does not offer on every target: creating a
//! symbolic link. Everything else the actions do is plain `std::fs`, which
//! WASI 0.2 implements over the preopened directories.

use std::io;
use std::path::Path;

/// Creates `link` pointing at `target` (a relative path, kept as written).
#[cfg(unix)]
pub fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

/// Creates `link` pointing at `target`. std's WASI `symlink_path` is still
/// unstable, so this calls `symlink-at` on the preopened directory that
/// holds `link` (`/workspace`) directly.
#[cfg(all(target_os = "wasi", target_env = "p2"))]
pub fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    let target = target
        .to_str()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "link target is not UTF-8"))?;
    for (dir, name) in wasip2::filesystem::preopens::get_directories() {
        let Ok(inside) = link.strip_prefix(&name) else {
            continue;
        };
        let inside = inside
            .to_str()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "link name is not UTF-8"))?;
        return dir
            .symlink_at(target, inside)
            .map_err(|code| io::Error::other(format!("{code:?}")));
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        "no preopened directory holds the link",
    ))
}

#[cfg(not(any(unix, all(target_os = "wasi", target_env = "p2"))))]
pub fn symlink(_target: &Path, _link: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "symbolic links are not supported here",
    ))
}

//! A GlusterFS volume of the test's own ([`ScratchVolume`]: replica 3 on this host, deleted
//! when dropped). Without GlusterFS installed the tests that need it say so and skip, unless
//! `BERTH_REQUIRE_GLUSTER` is set (as `.ci/run` sets it), where they fail instead.

pub use berth_agent::scratch_gluster::ScratchVolume;
use berth_agent::scratch_gluster::installed;

/// A new started volume named after `prefix`, or `None` when GlusterFS is not installed here.
pub fn volume(prefix: &str) -> Option<ScratchVolume> {
    if !installed() {
        assert!(
            std::env::var_os("BERTH_REQUIRE_GLUSTER").is_none(),
            "BERTH_REQUIRE_GLUSTER is set but glusterfs-server, glusterfs-client or /dev/fuse is missing"
        );
        eprintln!(
            "skipped: GlusterFS is not installed (apt-get install glusterfs-server glusterfs-client; .ci/run does)"
        );
        return None;
    }
    Some(ScratchVolume::create(prefix).unwrap_or_else(|e| panic!("a GlusterFS volume: {e}")))
}

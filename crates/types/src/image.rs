//! Image references: the registry and repository an image name points at.

/// The registry host (`host[:port]`) and repository name of an image reference, when it
/// names a registry (Docker's rule: the first component has a `.` or a `:`, or is
/// `localhost`).
pub fn reference(image: &str) -> Option<(&str, &str)> {
    let (host, rest) = image.split_once('/')?;
    if !(host.contains('.') || host.contains(':') || host == "localhost") {
        return None;
    }
    let rest = rest.split_once('@').map_or(rest, |(name, _)| name);
    let name = match rest.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => rest,
    };
    Some((host, name))
}

#[cfg(test)]
mod tests {
    use super::reference;

    #[test]
    fn references_name_their_registry_and_repository() {
        assert_eq!(
            reference("127.0.0.1:9714/team/app:v1"),
            Some(("127.0.0.1:9714", "team/app"))
        );
        assert_eq!(
            reference("localhost/app@sha256:ab"),
            Some(("localhost", "app"))
        );
        assert_eq!(
            reference("registry.example:5000/a/b"),
            Some(("registry.example:5000", "a/b"))
        );
        assert_eq!(reference("library/nginx:1"), None);
        assert_eq!(reference("nginx"), None);
    }
}

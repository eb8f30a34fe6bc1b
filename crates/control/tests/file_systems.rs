//! Shared file system declarations and how an `efsVolumeConfiguration` volume resolves
//! against them: servers and directories, access points, transit encryption, IAM
//! authorization, and the reasons a task stops with when one cannot be honoured.

use berth_control::ControlPlane;
use berth_control::file_systems::FileSystems;
use berth_control::roles::NewRole;
use berth_test_kit::control::plane;
use berth_types::ecs::{
    EFSAuthorizationConfig, EFSAuthorizationConfigIAM, EFSTransitEncryption,
    EFSVolumeConfiguration, TaskDefinition, Volume,
};
use berth_types::protocol::{SharedSource, SharedVolume};

const DECLARED: &str = r#"{
  "fileSystems": [
    {"fileSystemId": "fs-0123456789abcdef0", "engine": "glusterfs",
     "servers": ["10.0.0.5", "10.0.0.6"], "volume": "shared"},
    {"fileSystemId": "fs-00000000000000aa", "engine": "glusterfs",
     "servers": ["10.0.0.5"], "port": 24008, "volume": "secure", "tls": true},
    {"fileSystemId": "fs-0000000000000bbb", "engine": "nfs",
     "server": "10.0.0.9", "export": "/export/berth/", "options": "nfsvers=4.1,hard"}
  ],
  "accessPoints": [
    {"accessPointId": "fsap-0123456789abcdef0", "fileSystemId": "fs-00000000000000aa", "path": "/app/"}
  ]
}"#;

fn control() -> ControlPlane {
    let fs = FileSystems::parse(DECLARED).expect("declarations");
    plane().0.with_file_systems(fs)
}

fn definition(config: EFSVolumeConfiguration) -> TaskDefinition {
    TaskDefinition {
        volumes: Some(vec![Volume {
            name: Some("data".into()),
            efs_volume_configuration: Some(config),
            ..Volume::default()
        }]),
        ..TaskDefinition::default()
    }
}

fn efs(id: &str, root: Option<&str>) -> EFSVolumeConfiguration {
    EFSVolumeConfiguration {
        file_system_id: id.into(),
        root_directory: root.map(str::to_string),
        transit_encryption: Some(EFSTransitEncryption::Disabled),
        ..EFSVolumeConfiguration::default()
    }
}

fn resolved(cp: &ControlPlane, config: EFSVolumeConfiguration, role: Option<&str>) -> SharedVolume {
    let mut volumes = cp.shared_volumes(&definition(config), role);
    assert_eq!(volumes.len(), 1);
    volumes.remove(0)
}

fn error_of(cp: &ControlPlane, config: EFSVolumeConfiguration) -> String {
    resolved(cp, config, None).error.expect("an error")
}

#[test]
fn a_gluster_volume_resolves_to_its_servers_and_the_root_directory() {
    let cp = control();
    let v = resolved(&cp, efs("fs-0123456789abcdef0", Some("a/./b//")), None);
    assert_eq!(v.error, None);
    assert_eq!(
        v.source,
        Some(SharedSource::Glusterfs {
            servers: vec!["10.0.0.5".into(), "10.0.0.6".into()],
            port: None,
            volume: "shared".into(),
            path: "/a/b".into(),
        })
    );
    let root = resolved(&cp, efs("fs-0123456789abcdef0", None), None);
    assert!(matches!(root.source, Some(SharedSource::Glusterfs { path, .. }) if path == "/"));
}

#[test]
fn an_nfs_volume_joins_the_export_and_the_root_directory() {
    let v = resolved(&control(), efs("fs-0000000000000bbb", Some("/app")), None);
    assert_eq!(
        v.source,
        Some(SharedSource::Nfs {
            server: "10.0.0.9".into(),
            path: "/export/berth/app".into(),
            options: "nfsvers=4.1,hard".into(),
        })
    );
}

#[test]
fn what_cannot_be_honoured_becomes_the_reason_naming_the_field() {
    let cp = control();
    let undeclared = error_of(&cp, efs("fs-99999999", None));
    assert!(undeclared.starts_with("ResourceInitializationError: failed to mount shared volume 'data' (fs-99999999): file system fs-99999999 is not declared"), "{undeclared}");
    let up = error_of(&cp, efs("fs-0123456789abcdef0", Some("/a/../../etc")));
    assert!(
        up.contains("efsVolumeConfiguration.rootDirectory (volume 'data')"),
        "{up}"
    );
    // What would reach the mount helper's command line as more than a path.
    for odd in ["/a b", "/a*", "/x --log-file=/etc/passwd", "/$(id)"] {
        let refused = error_of(&cp, efs("fs-0123456789abcdef0", Some(odd)));
        assert!(
            refused.contains("may only have names of letters"),
            "{odd}: {refused}"
        );
    }
    let plain = EFSVolumeConfiguration {
        transit_encryption: Some(EFSTransitEncryption::Enabled),
        ..efs("fs-0123456789abcdef0", None)
    };
    let plain = error_of(&cp, plain);
    assert!(
        plain.contains("transitEncryption") && plain.contains("never mounts it unencrypted"),
        "{plain}"
    );
    let port = EFSVolumeConfiguration {
        transit_encryption_port: Some(2049),
        ..efs("fs-0123456789abcdef0", None)
    };
    assert!(error_of(&cp, port).contains("transitEncryptionPort"));
}

fn with_access_point(ap: &str, root: Option<&str>) -> EFSVolumeConfiguration {
    EFSVolumeConfiguration {
        transit_encryption: Some(EFSTransitEncryption::Enabled),
        authorization_config: Some(EFSAuthorizationConfig {
            access_point_id: Some(ap.into()),
            iam: None,
        }),
        ..efs("fs-00000000000000aa", root)
    }
}

#[test]
fn an_access_point_gives_its_directory_and_needs_transit_encryption() {
    let cp = control();
    let v = resolved(&cp, with_access_point("fsap-0123456789abcdef0", None), None);
    assert!(
        matches!(v.source, Some(SharedSource::Glusterfs { ref path, port: Some(24008), .. }) if path == "/app"),
        "{v:?}"
    );
    let root = error_of(&cp, with_access_point("fsap-0123456789abcdef0", Some("/x")));
    assert!(
        root.contains("rootDirectory") && root.contains("access point"),
        "{root}"
    );
    let unknown = error_of(&cp, with_access_point("fsap-1111111111111111", None));
    assert!(
        unknown
            .contains("access point fsap-1111111111111111 of fs-00000000000000aa is not declared"),
        "{unknown}"
    );
    let mut plain = with_access_point("fsap-0123456789abcdef0", None);
    plain.transit_encryption = None;
    assert!(error_of(&cp, plain).contains("must be ENABLED"));
}

fn with_iam() -> EFSVolumeConfiguration {
    EFSVolumeConfiguration {
        transit_encryption: Some(EFSTransitEncryption::Enabled),
        authorization_config: Some(EFSAuthorizationConfig {
            access_point_id: None,
            iam: Some(EFSAuthorizationConfigIAM::Enabled),
        }),
        ..efs("fs-00000000000000aa", None)
    }
}

#[test]
fn iam_authorization_asks_the_task_role_for_mount_and_write() {
    let cp = control();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role = |name: &str, actions: &str| {
        cp.create_role(NewRole {
            name,
            path: None,
            trust,
            description: None,
            max_session: None,
        })
        .expect("role");
        let doc = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":{actions},"Resource":"*"}}]}}"#
        );
        cp.put_role_policy(name, "efs", &doc).expect("policy");
        format!("arn:aws:iam::000000000000:role/{name}")
    };
    let reader = role("reader", r#"["elasticfilesystem:ClientMount"]"#);
    let writer = role("writer", r#"["elasticfilesystem:Client*"]"#);
    let nobody = role("nobody", r#"["ecs:ListClusters"]"#);
    assert!(resolved(&cp, with_iam(), Some(&reader)).read_only);
    let w = resolved(&cp, with_iam(), Some(&writer));
    assert!(!w.read_only && w.error.is_none(), "{w:?}");
    let refused = resolved(&cp, with_iam(), Some(&nobody))
        .error
        .expect("refused");
    assert!(
        refused.contains("authorizationConfig.iam")
            && refused.contains("elasticfilesystem:ClientMount"),
        "{refused}"
    );
    let no_role = resolved(&cp, with_iam(), None).error.expect("refused");
    assert!(no_role.contains("no taskRoleArn"), "{no_role}");
}

#[test]
fn declarations_are_checked_when_loaded() {
    let bad = [
        (
            r#"{"fileSystems":[{"fileSystemId":"fs-12","engine":"glusterfs","servers":["a"],"volume":"v"}]}"#,
            "8 to 40",
        ),
        (
            r#"{"fileSystems":[{"fileSystemId":"fs-12345678","engine":"ceph"}]}"#,
            "use glusterfs or nfs",
        ),
        (
            r#"{"fileSystems":[{"fileSystemId":"fs-12345678","engine":"glusterfs","servers":["a"]}]}"#,
            "needs \"servers\" and \"volume\"",
        ),
        (
            r#"{"fileSystems":[{"fileSystemId":"fs-12345678","engine":"nfs","server":"a","export":"/x","tls":true}]}"#,
            "xprtsec",
        ),
        (
            r#"{"fileSystems":[{"fileSystemId":"fs-12345678","engine":"glusterfs","servers":["a"],"volume":"v","posixUser":{}}]}"#,
            "unknown field `posixUser`",
        ),
        (
            r#"{"accessPoints":[{"accessPointId":"fsap-12345678","fileSystemId":"fs-12345678","path":"/"}]}"#,
            "not declared",
        ),
    ];
    for (text, expected) in bad {
        let e = FileSystems::parse(text).expect_err(text);
        assert!(e.contains(expected), "{text}: {e}");
    }
    assert_eq!(FileSystems::parse(DECLARED).expect("parses").len(), 3);
}

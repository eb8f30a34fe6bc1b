use super::*;
use names::variant_name;

#[test]
fn names() {
    assert_eq!(field_name("containerInstanceArn"), "container_instance_arn");
    assert_eq!(field_name("bindIP"), "bind_ip");
    assert_eq!(field_name("type"), "r#type");
    assert_eq!(field_name("Return"), "r#return");
    assert_eq!(
        field_name("enableECSManagedTags"),
        "enable_ecs_managed_tags"
    );
    assert_eq!(variant_name("DELETE_IN_PROGRESS"), "DeleteInProgress");
    assert_eq!(variant_name("memberOf"), "MemberOf");
    assert_eq!(variant_name("EC2"), "Ec2");
    assert_eq!(type_name("statusType"), "StatusType");
    assert_eq!(type_name("User"), "User");
}

/// The committed generated files match what the models generate now.
#[test]
fn generated_files_are_fresh() {
    let dir = types_crate_dir();
    for t in TARGETS {
        let fresh = generate_target(t).expect("model parses");
        let committed = std::fs::read_to_string(dir.join(t.output)).unwrap_or_default();
        assert!(
            committed == fresh,
            "{} is stale: run `cargo run -p berth-codegen`",
            t.output
        );
    }
}

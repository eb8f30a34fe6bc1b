#![allow(missing_docs)]
use berth_api::wire;
use berth_types::{ApiError, ecr, ecs};
fn nested(depth: usize, objects: bool, closed: bool) -> String {
    let (open, close) = if objects {
        ("{\"a\":", "}")
    } else {
        ("[", "]")
    };
    let mut s = open.repeat(depth);
    if closed {
        s.push('1');
        s.push_str(&close.repeat(depth));
    }
    s
}
fn placed(nest: &str, place: u8) -> String {
    match place {
        0 => nest.to_string(),
        1 => format!("{{\"cluster\":\"c\",\"somethingElse\":{nest}}}"),
        2 => format!(
            "{{\"serviceName\":\"s\",\"deploymentConfiguration\":{{\"lifecycleHooks\":[{{\"hookDetails\":{nest}}}]}}}}"
        ),
        _ => format!("{{\"family\":\"f\",\"containerDefinitions\":[{nest}]}}"),
    }
}
fn decoded<T: serde::de::DeserializeOwned + berth_types::Validate>(
    body: &[u8],
) -> Result<(), ApiError> {
    wire::decode::<T>(body).map(drop)
}
const DECODERS: &[(&str, fn(&[u8]) -> Result<(), ApiError>)] = &[
    ("RunTask", decoded::<ecs::RunTaskRequest>),
    (
        "RegisterTaskDefinition",
        decoded::<ecs::RegisterTaskDefinitionRequest>,
    ),
    (
        "ListContainerInstances",
        decoded::<ecs::ListContainerInstancesRequest>,
    ),
    ("CreateService", decoded::<ecs::CreateServiceRequest>),
    (
        "SubmitTaskStateChange",
        decoded::<ecs::SubmitTaskStateChangeRequest>,
    ),
    ("PutImage", decoded::<ecr::PutImageRequest>),
    ("UploadLayerPart", decoded::<ecr::UploadLayerPartRequest>),
];
#[test]
fn probe() {
    let stack: usize = std::env::var("PROBE_STACK").unwrap().parse().unwrap();
    let which: usize = std::env::var("PROBE_DECODER").unwrap().parse().unwrap();
    let place: u8 = std::env::var("PROBE_PLACE").unwrap().parse().unwrap();
    let objects = std::env::var("PROBE_OBJ").is_ok();
    let depth: usize = std::env::var("PROBE_DEPTH").unwrap().parse().unwrap();
    let r = std::thread::Builder::new()
        .stack_size(stack)
        .spawn(move || {
            let body = placed(&nested(depth, objects, true), place);
            let r = (DECODERS[which].1)(body.as_bytes());
            format!("{} {:?}", DECODERS[which].0, r.map_err(|e| e.code))
        })
        .unwrap()
        .join()
        .unwrap();
    println!("RESULT {r}");
}

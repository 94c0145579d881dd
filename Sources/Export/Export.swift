/// Export: the `.wtm` writer, the C-source emitter and the ONNX QDQ writer. Empty until the
/// int8 issue lands; the target exists so the dependency arrows of docs/architecture.md hold
/// from the start.
public enum Export {}

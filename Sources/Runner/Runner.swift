import WhittleRuntime

/// Runner: the Swift face of the C runtime (load a `.wtm`, run, profile). Until the int8 issue
/// lands it only reports which runtime it links.
public enum Runner {
    /// The C runtime's version string, e.g. "whittle-runtime 0.1 (wtm format 1)".
    public static var runtimeVersion: String { String(cString: wt_runtime_version()) }
}

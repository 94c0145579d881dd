import Graph
import Quantize

extension Pipeline {
    /// The nodes of `graph` (imported and simplified) that would run in float32 inside the `.wtm`
    /// because int8 has no kernel for them (float islands), and why: known before any
    /// calibration. Throws, naming it, for a node that neither int8 nor float can run.
    public static func floatNodes(_ graph: Graph) throws -> [QuantPlan.FloatNode] { try QuantPlan(graph).floatNodes }
}

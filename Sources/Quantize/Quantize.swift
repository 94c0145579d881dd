/// Quantize: schemes, calibration observers, fake-quant, the integer simulation (QuantSim) and
/// fine-tuning. Empty until the int8 issue lands; the target exists so the dependency arrows
/// of docs/architecture.md hold from the start.
public enum Quantize {}

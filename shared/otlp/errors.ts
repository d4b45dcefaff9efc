/** A request body that is not a valid OTLP export (400). */
export class OtlpDecodeError extends Error {}

/** A valid export over the relay's bounds: too many entries, or too large once rewritten (413). */
export class ExportTooLargeError extends Error {}

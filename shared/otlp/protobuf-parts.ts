/**
 * An export as protobuf, in consecutive pieces: rewriting splices a few new bytes between untouched
 * ranges of the request, and sending the pieces as they are saves copying large bodies.
 */
export type ProtobufParts = readonly Uint8Array[];

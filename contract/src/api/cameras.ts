/**
 * Live video (issue 10): the hub relays a camera's RTSP stream to the console as MPEG-TS (MPEG-1 video, no audio)
 * over a WebSocket, the stream format JSMpeg plays. Not a REST route: a WebSocket on the hub's HTTP listener at
 * `VIDEO_PATH/{cameraId}?token={login token}` (browsers cannot set headers on a WebSocket, hence the query).
 *
 * The server sends binary frames only, each a whole number of 188-byte MPEG-TS packets. When it refuses or ends
 * a stream it closes the socket with one of VIDEO_CLOSE's codes and a human-readable reason.
 */
export const VIDEO_PATH = '/video';

export const VIDEO_CLOSE = {
  /** No login token, or it is invalid, expired or revoked. */
  unauthorized: 4401,
  /** The user's roles do not include viewing cameras (admin, security, supervisor), or the camera is outside their scope. */
  forbidden: 4403,
  /** The hub has no stream source configured for this camera. */
  unknownCamera: 4404,
  /** The hub's cap on concurrent live streams is reached; the reason names the cap. */
  streamLimit: 4429,
  /** The camera's stream could not be pulled (ffmpeg failed 3 times in a row without a frame); the reason says what ffmpeg said, without credentials. */
  upstream: 4502,
  /** The hub is stopping. */
  shutdown: 1001,
} as const;
export type VideoCloseCode = (typeof VIDEO_CLOSE)[keyof typeof VIDEO_CLOSE];

/** The path of one camera's live stream (the console adds `?token=`). */
export function videoPath(cameraId: string): string {
  return `${VIDEO_PATH}/${encodeURIComponent(cameraId)}`;
}

// @cycjimmy/jsmpeg-player ships no types: the part of JSMpeg the camera page uses.
declare module '@cycjimmy/jsmpeg-player' {
  export interface JSMpegSource {
    connect(destination: { write(data: ArrayBuffer): void }): void;
  }
  export interface JSMpegPlayerOptions {
    canvas?: HTMLCanvasElement;
    audio?: boolean;
    autoplay?: boolean;
    loop?: boolean;
    progressive?: boolean;
    videoBufferSize?: number;
    preserveDrawingBuffer?: boolean;
    disableGl?: boolean;
    source?: new (url: string, options: JSMpegPlayerOptions) => unknown;
    onVideoDecode?: () => void;
    [key: string]: unknown;
  }
  export class Player {
    constructor(url: string, options: JSMpegPlayerOptions);
    destroy(): void;
  }
  const JSMpeg: { Player: typeof Player };
  export default JSMpeg;
}

/** What PolyMongo needs of a change stream to track it: the driver's `ChangeStream`, or Mongoose's wrapper of one. */
export interface ClosableStream {
  close(): Promise<unknown> | unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * Runs `fn` once, after the stream itself is closed (by the caller, by PolyMongo, or by the driver on a fatal
 * error). The driver re-creates its cursor when it resumes and re-emits that cursor's 'close' on the stream, so the
 * 'close' event cannot tell; wrapping `close()` can. This is the one place PolyMongo patches `stream.close`: the
 * watch manager, the Mongoose adapter and the 1.x compat entry all track streams through it.
 */
export function onStreamClosed(stream: ClosableStream, fn: () => void): void {
  const close = stream.close.bind(stream);
  let done = false;
  stream.close = async () => {
    try {
      await close();
    } finally {
      if (!done) {
        done = true;
        fn();
      }
    }
  };
}

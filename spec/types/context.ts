// An application declares the type of signal.context once, by declaration merging.
export {};

declare module '../../lib' {
  interface SignalContext {
    userId: number;
  }
}

/** The process's telemetry: started once from the configuration, flushed and stopped at shutdown. */
export interface Telemetry {
  /** False when APPLICATIONINSIGHTS_CONNECTION_STRING is not set: nothing was started and spans are no-ops. */
  readonly enabled: boolean;
  /** Exports what is buffered; bounded in time, never throws. */
  shutdown(): Promise<void>;
}

/** Without APPLICATIONINSIGHTS_CONNECTION_STRING: nothing started, spans are no-ops. */
export const telemetryDisabled: Telemetry = { enabled: false, shutdown: async () => {} };

/**
 * The small part of the `africastalking` 0.8.3 SDK that sabatili uses (the package ships no
 * usable types). Only what src/sms/transports/africastalking.ts calls is declared; see
 * shared/reference/africastalking.md and node_modules/africastalking/lib/{index,sms,common}.js.
 */

declare module 'africastalking' {
  interface AfricasTalkingOptions {
    username: string;
    apiKey: string;
    format?: 'json' | 'xml';
  }

  interface SendSmsParams {
    /**
     * One E.164 number or an array of them. The SDK validates each with libphonenumber and joins an
     * array with ',' for the wire; a comma-separated string is validated as ONE number and rejected.
     */
    to: string | string[];
    message: string;
    from?: string;
    /** Sent as enqueue=1 / enqueue=0; omitted when undefined. */
    enqueue?: boolean;
  }

  interface SmsService {
    /**
     * Resolves with the response body on HTTP 201 only (a string when the body was not JSON).
     * Rejects with: an Error (parameter validation, before any request), an AxiosError (non-2xx:
     * `response.status` / `response.data`; network: `code`), or the bare response body (another 2xx).
     */
    send(params: SendSmsParams): Promise<unknown>;
  }

  interface VoiceCallParams {
    /** UTM's voice number; validated with libphonenumber like each callee. */
    callFrom: string;
    /** One E.164 number, an array, or a comma-separated string of them. */
    callTo: string | string[];
    /** Echoed by the gateway in the voice callbacks of this call. */
    clientRequestId?: string;
  }

  interface VoiceService {
    /**
     * Posts to `${Common.VOICE_URL}/call`. Resolves with the body on HTTP 200/201; rejects with a
     * string (parameter validation, before any request) or an AxiosError (non-2xx, network). No timeout.
     */
    call(params: VoiceCallParams): Promise<unknown>;
  }

  interface AfricasTalkingClient {
    SMS: SmsService;
    VOICE: VoiceService;
  }

  /** `username === 'sandbox'` (any case) calls lib/common's enableSandbox(), which rewrites every URL in it. */
  function AfricasTalking(options: AfricasTalkingOptions): AfricasTalkingClient;

  export = AfricasTalking;
}

declare module 'africastalking/lib/common.js' {
  /**
   * The SDK's endpoint table: plain mutable properties of the module's exports, read by
   * lib/sms.js (`Common.SMS_URL`) each time a message is sent.
   */
  const common: {
    SMS_URL: string;
    /** Read by lib/voice.js (`Common.VOICE_URL`) synchronously inside VOICE.call(). */
    VOICE_URL: string;
    phoneUtil: {
      /** Throws (libphonenumber) on strings it cannot parse at all, e.g. without a leading '+'. */
      isValidNumber(value: string): boolean;
    };
  };
  export = common;
}

/** The server could not listen (port in use, address not on this machine…); nothing was started. */
export class ListenError extends Error {}

// Error values thrown by handlers and turned into the documented error envelope
// { success:false, error:{ code, message, details? } } (docs §3.1).

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function errorBody(code: string, message: string, details?: unknown): { success: false; error: Record<string, unknown> } {
  const error: Record<string, unknown> = { code, message };
  if (details !== undefined) error.details = details;
  return { success: false, error };
}

// The endpoint pages answer validation failures with 400, not the 422 of the errors guide.
// Every validation error carries a details array so clients can rely on it.
export function validationError(message: string, details: FieldError[]): ApiError {
  return new ApiError(400, "validation_error", message, details);
}

/** A one-field validation error whose message is also the top-level message. */
export function fieldError(field: string, message: string): ApiError {
  return validationError(message, [{ field, message }]);
}

export function notFound(message: string): ApiError {
  return new ApiError(404, "not_found", message);
}

/** Base class for errors of the Lambda entry-point plumbing (events, context, CloudFormation answers). */
export class HandlerError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'HandlerError';
  }
}

/** The answer could not be delivered to CloudFormation's pre-signed response URL. */
export class ResponseDeliveryError extends HandlerError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ResponseDeliveryError';
  }
}

/** Errors a user sees: each says what was wrong; `exitCode` follows the CLI's convention. */
export class SlipwayError extends Error {
  /** 1: refused or failed; 2: bad usage. */
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = 'SlipwayError';
  }
}

export class InvalidInputError extends SlipwayError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'InvalidInputError';
  }
}

export class NotFoundError extends SlipwayError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'NotFoundError';
  }
}

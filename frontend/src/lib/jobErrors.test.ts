import { describe, expect, it } from 'vitest';
import { jobErrorInWords } from './jobErrors';

describe('job errors in words', () => {
  it('names the kind of failure instead of the exception class', () => {
    expect(jobErrorInWords("ValueError: invalid literal for int() with base 10: 'abc'")).toBe(
      "A value was not valid: invalid literal for int() with base 10: 'abc'.",
    );
    expect(jobErrorInWords('ValidationFailed: grid: fast must be < slow')).toBe(
      'The request was not valid: grid: fast must be < slow.',
    );
    expect(jobErrorInWords('SomeOtherError: boom')).toBe('The job failed: boom.');
    expect(jobErrorInWords('RuntimeError: ')).toBe('The backtest worker failed.');
  });

  it('keeps a plain message and says something when there is none', () => {
    expect(jobErrorInWords('no backtest worker')).toBe('no backtest worker.');
    expect(jobErrorInWords(null)).toBe('The job failed without saying why.');
  });
});

'use strict';
// Argument checks shared by the JavaScript layer. The core checks every
// option of a built-in kind itself (naming the key at fault); these only
// catch what must be caught before a value crosses into native code.

function checkObject(value, what) {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`${what} must be an object`);
  return value;
}

function checkMs(value, what, fallback) {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
    throw new TypeError(`${what} must be a non-negative number of milliseconds`);
  }
  return value;
}

function checkBool(value, what) {
  if (value !== undefined && typeof value !== 'boolean') throw new TypeError(`${what} must be a boolean`);
  return value;
}

function checkString(value, what) {
  if (value !== undefined && value !== null && typeof value !== 'string') throw new TypeError(`${what} must be a string`);
  return value ?? undefined;
}

function checkCount(value, what) {
  if (value === undefined || value === null) return undefined;
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`${what} must be a positive integer`);
  return value;
}

module.exports = { checkObject, checkMs, checkBool, checkString, checkCount };

'use strict';
// A tiny seeded PRNG. Each fault kind draws from its own stream so that the
// faults one kind produces do not depend on how often another kind is drawn:
// a run with the same seed and the same request sequence repeats exactly.

// mulberry32: 32-bit state, good enough spread for fault rates, no dependency.
function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// FNV-1a over the stream's name, mixed with the seed: distinct, stable seeds
// per kind without a table of magic numbers.
function streamSeed(seed, name) {
  let h = 0x811c9dc5 ^ (Number(seed) >>> 0);
  for (const ch of String(name)) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function createStreams(seed, names) {
  const streams = {};
  for (const name of names) streams[name] = mulberry32(streamSeed(seed, name));
  return streams;
}

module.exports = { mulberry32, streamSeed, createStreams };

import type { Labels } from '../labels/index.js';
import type { ProtoReader } from './proto-reader.js';
import { WireType, type ProtoWriter } from './proto-writer.js';
import { labelsFromFlat, readLabelInto } from './series-codec.js';

// Codec of thanos.LabelSet (labels = 1, repeated thanos.Label), the label sets of the Info and
// Rules APIs; series labels are written by series-codec.

const LD = WireType.LengthDelimited;

/** writeLabels writes each label as a thanos.Label in `field` (empty names and values left out). */
export function writeLabels(w: ProtoWriter, field: number, ls: Labels): void {
  ls.forEach((name, value) => {
    w.fork();
    if (name.length > 0) w.tag(1, LD).string(name);
    if (value.length > 0) w.tag(2, LD).string(value);
    w.ldelim(field);
  });
}

/** writeLabelSet writes ls as a thanos.LabelSet in `field` (always, even when empty). */
export function writeLabelSet(w: ProtoWriter, field: number, ls: Labels): void {
  w.fork();
  writeLabels(w, 1, ls);
  w.ldelim(field);
}

/** readLabelSet reads one length-delimited thanos.LabelSet. */
export function readLabelSet(r: ProtoReader): Labels {
  const end = r.subEnd();
  const kv: string[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | LD)) readLabelInto(r, kv);
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'thanos.LabelSet');
  return labelsFromFlat(kv);
}

namespace EdgeRuntime.Tests.Loading;

/// <summary>One corrupted model and how it was made (for failure messages).</summary>
internal readonly record struct FuzzMutant(int Index, string Description, byte[] Bytes);

/// <summary>
/// Produces corrupted variants of a protobuf file (an ONNX model) for robustness tests of the reader.
/// Two families of mutations:
/// <list type="bullet">
/// <item>byte-level: truncation, random byte flips, inflated or shrunk length prefixes of length-delimited
/// fields, a random chunk duplicated elsewhere, the file cut into chunks and shuffled — mostly exercise the
/// protobuf layer;</item>
/// <item>structure-aware: the file is parsed once into a field tree (any length-delimited payload that parses
/// cleanly as fields is treated as a sub-message), then a field is duplicated, deleted, swapped with a sibling
/// or has its varint value replaced by an extreme value, and the tree is re-serialized with consistent lengths —
/// these produce well-formed protobuf with broken ONNX semantics (duplicate nodes, missing inputs, huge dims,
/// wrong data types, reordered nodes), so they exercise the reader's validation and the topology checks.</item>
/// </list>
/// Mutants are generated lazily (a large model times hundreds of mutants must not be held at once) and
/// deterministically from <c>seed</c>.
/// </summary>
internal static class ModelFuzzing
{
    private static readonly ulong[] ExtremeVarints =
    [
        0, 1, 2, 7, 11, 16, 127, 128, 255, 1UL << 24, (1UL << 24) + 1, 1UL << 31, 1UL << 32, 1UL << 40,
        long.MaxValue, ulong.MaxValue /* -1 as int64 */, unchecked((ulong)-2L), unchecked((ulong)(long)int.MinValue),
    ];

    /// <summary>Lazily yields <paramref name="count"/> mutants of <paramref name="original"/>.</summary>
    public static IEnumerable<FuzzMutant> Mutants(byte[] original, int seed, int count)
    {
        var rng = new Random(seed);
        var root = new List<PbField>();
        var all = new List<PbField>();
        if (!TryParseFields(original, 0, original.Length, 0, root, all))
            root = null; // not protobuf at all: only byte-level mutations
        var lengthDelimited = all.Where(f => f.WireType == 2).ToList();
        var varints = all.Where(f => f.WireType == 0).ToList();

        for (int i = 0; i < count; i++)
        {
            int kind = rng.Next(root == null ? 6 : 10);
            if ((kind is 2 or 3 && lengthDelimited.Count == 0) || (kind >= 6 && all.Count == 0) || (kind == 6 && varints.Count == 0))
                kind = 0;
            string description;
            byte[] bytes;
            switch (kind)
            {
                case 0:
                {
                    int cut = rng.Next(0, original.Length);
                    description = $"truncated to {cut} of {original.Length} bytes";
                    bytes = original[..cut];
                    break;
                }
                case 1:
                {
                    bytes = (byte[])original.Clone();
                    int flips = rng.Next(1, 17);
                    var positions = new List<int>();
                    for (int k = 0; k < flips; k++)
                    {
                        int p = rng.Next(bytes.Length);
                        bytes[p] ^= (byte)rng.Next(1, 256);
                        positions.Add(p);
                    }
                    description = $"{flips} byte(s) flipped at {string.Join(",", positions.Take(8))}";
                    break;
                }
                case 2:
                case 3:
                {
                    var f = lengthDelimited[rng.Next(lengthDelimited.Count)];
                    long newLength = kind == 2
                        ? rng.Next(5) switch
                        {
                            0 => f.PayloadLength + 1,
                            1 => f.PayloadLength + rng.Next(2, 5000),
                            2 => (long)f.PayloadLength * 2 + 1,
                            3 => original.Length - f.PayloadOffset + rng.Next(1, 64),
                            _ => rng.Next(2) == 0 ? int.MaxValue : 0x7FFF_FFF0,
                        }
                        : rng.Next(0, Math.Max(1, f.PayloadLength));
                    description = $"length of field {f.Number} at offset {f.LengthOffset} changed {f.PayloadLength} -> {newLength}";
                    bytes = Splice(original, f.LengthOffset, f.LengthSize, EncodeVarint((ulong)newLength));
                    break;
                }
                case 4:
                {
                    int start = rng.Next(original.Length);
                    int length = Math.Min(original.Length - start, rng.Next(1, 4097));
                    int at = rng.Next(original.Length + 1);
                    description = $"{length} bytes from {start} duplicated at {at}";
                    bytes = Splice(original, at, 0, original.AsSpan(start, length).ToArray());
                    break;
                }
                case 5:
                {
                    int pieces = rng.Next(2, 5);
                    var cuts = Enumerable.Range(0, pieces - 1).Select(_ => rng.Next(original.Length + 1)).Append(0).Append(original.Length)
                        .Distinct().Order().ToArray();
                    var chunks = new List<byte[]>();
                    for (int k = 0; k + 1 < cuts.Length; k++) chunks.Add(original[cuts[k]..cuts[k + 1]]);
                    var order = Enumerable.Range(0, chunks.Count).OrderBy(_ => rng.Next()).ToArray();
                    description = $"chunks at [{string.Join(",", cuts)}] shuffled to order {string.Join(",", order)}";
                    bytes = order.SelectMany(k => chunks[k]).ToArray();
                    break;
                }
                case 6:
                {
                    var f = varints[rng.Next(varints.Count)];
                    var old = f.Varint;
                    f.Varint = rng.Next(4) == 0 ? old + 1 : ExtremeVarints[rng.Next(ExtremeVarints.Length)];
                    description = $"varint field {f.Number} (file offset {f.TagOffset}) {old} -> {f.Varint}";
                    bytes = Serialize(original, root!);
                    f.Varint = old;
                    break;
                }
                case 7:
                {
                    var (parent, index) = PickChild(rng, all);
                    var f = parent[index];
                    parent.Insert(index + 1, f);
                    description = $"field {f.Number} (file offset {f.TagOffset}) duplicated";
                    bytes = Serialize(original, root!);
                    parent.RemoveAt(index + 1);
                    break;
                }
                case 8:
                {
                    var (parent, index) = PickChild(rng, all);
                    var f = parent[index];
                    parent.RemoveAt(index);
                    description = $"field {f.Number} (file offset {f.TagOffset}) deleted";
                    bytes = Serialize(original, root!);
                    parent.Insert(index, f);
                    break;
                }
                default:
                {
                    var (parent, index) = PickChild(rng, all);
                    if (parent.Count < 2) goto case 8;
                    int other = rng.Next(parent.Count - 1);
                    if (other >= index) other++;
                    (parent[index], parent[other]) = (parent[other], parent[index]);
                    description = $"fields {parent[other].Number}@{parent[other].TagOffset} and {parent[index].Number}@{parent[index].TagOffset} swapped";
                    bytes = Serialize(original, root!);
                    (parent[index], parent[other]) = (parent[other], parent[index]);
                    break;
                }
            }
            yield return new FuzzMutant(i, description, bytes);
        }
    }

    /// <summary>A field of the parsed tree; payload bytes stay in the original array.</summary>
    private sealed class PbField
    {
        public int Number;
        public int WireType;
        public int TagOffset;
        public int TagSize;
        public ulong Varint;             // wire type 0
        public int LengthOffset;         // wire type 2: where the length varint starts
        public int LengthSize;
        public int PayloadOffset;        // wire types 1, 2, 5
        public int PayloadLength;
        public List<PbField>? Children;  // wire type 2 payloads that parse as a message
        public List<PbField> Parent = null!;
    }

    private static (List<PbField> Parent, int Index) PickChild(Random rng, List<PbField> all)
    {
        var f = all[rng.Next(all.Count)];
        return (f.Parent, f.Parent.IndexOf(f));
    }

    private static bool TryParseFields(byte[] data, int start, int end, int depth, List<PbField> into, List<PbField> all)
    {
        int pos = start;
        var found = new List<PbField>();
        while (pos < end)
        {
            int tagOffset = pos;
            if (!TryReadVarint(data, ref pos, end, out var tag)) return false;
            int number = (int)(tag >> 3);
            if (number <= 0 || tag >> 3 > 0x1FFF_FFFF) return false;
            var f = new PbField { Number = number, WireType = (int)(tag & 7), TagOffset = tagOffset, TagSize = pos - tagOffset, Parent = into };
            switch (f.WireType)
            {
                case 0:
                    if (!TryReadVarint(data, ref pos, end, out f.Varint)) return false;
                    break;
                case 1:
                case 5:
                    f.PayloadOffset = pos;
                    f.PayloadLength = f.WireType == 1 ? 8 : 4;
                    pos += f.PayloadLength;
                    if (pos > end) return false;
                    break;
                case 2:
                    f.LengthOffset = pos;
                    if (!TryReadVarint(data, ref pos, end, out var length) || length > (ulong)(end - pos)) return false;
                    f.LengthSize = pos - f.LengthOffset;
                    f.PayloadOffset = pos;
                    f.PayloadLength = (int)length;
                    pos += (int)length;
                    break;
                default:
                    return false;
            }
            found.Add(f);
        }
        if (pos != end) return false;

        into.AddRange(found);
        all.AddRange(found);
        if (depth < 8)
        {
            foreach (var f in found)
            {
                if (f.WireType != 2 || f.PayloadLength == 0) continue;
                var children = new List<PbField>();
                var descendants = new List<PbField>();
                if (TryParseFields(data, f.PayloadOffset, f.PayloadOffset + f.PayloadLength, depth + 1, children, descendants))
                {
                    f.Children = children;
                    all.AddRange(descendants);
                }
            }
        }
        return true;
    }

    private static bool TryReadVarint(byte[] data, ref int pos, int end, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (pos >= end) return false;
            byte b = data[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return true;
        }
        return false;
    }

    private static byte[] EncodeVarint(ulong value)
    {
        var bytes = new List<byte>(10);
        while (value >= 0x80) { bytes.Add((byte)(value | 0x80)); value >>= 7; }
        bytes.Add((byte)value);
        return bytes.ToArray();
    }

    private static byte[] Splice(byte[] data, int at, int removeLength, byte[] insert)
    {
        var r = new byte[data.Length - removeLength + insert.Length];
        data.AsSpan(0, at).CopyTo(r);
        insert.CopyTo(r.AsSpan(at));
        data.AsSpan(at + removeLength).CopyTo(r.AsSpan(at + insert.Length));
        return r;
    }

    private static byte[] Serialize(byte[] original, List<PbField> fields)
    {
        var output = new MemoryStream(original.Length + 64);
        Write(original, fields, output);
        return output.ToArray();
    }

    private static void Write(byte[] original, List<PbField> fields, Stream output)
    {
        foreach (var f in fields)
        {
            output.Write(original, f.TagOffset, f.TagSize);
            switch (f.WireType)
            {
                case 0:
                    output.Write(EncodeVarint(f.Varint));
                    break;
                case 2 when f.Children != null:
                {
                    var payload = new MemoryStream();
                    Write(original, f.Children, payload);
                    output.Write(EncodeVarint((ulong)payload.Length));
                    payload.Position = 0;
                    payload.CopyTo(output);
                    break;
                }
                case 2:
                    output.Write(EncodeVarint((ulong)f.PayloadLength));
                    output.Write(original, f.PayloadOffset, f.PayloadLength);
                    break;
                default:
                    output.Write(original, f.PayloadOffset, f.PayloadLength);
                    break;
            }
        }
    }
}

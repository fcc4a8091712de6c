using Google.Protobuf;

namespace EdgeRuntime.Onnx.Proto;

// onnx.proto here is a subset of the ONNX schema: fields it omits are kept by Google.Protobuf as
// unknown fields. A few of those change the meaning of a model (a segmented tensor, sparse
// initializers), so the reader must notice them rather than silently ignore them. Google.Protobuf
// has no public query for unknown field numbers, so these partial classes re-serialize the
// (normally absent, hence free) unknown-field set and list the field numbers in it.

internal sealed partial class TensorProto
{
    /// <summary>Field numbers present in the file but not in EdgeRuntime's schema subset.</summary>
    internal IReadOnlyList<int> UnknownFieldNumbers() => UnknownFields.Numbers(_unknownFields);
}

internal sealed partial class GraphProto
{
    /// <summary>Field numbers present in the file but not in EdgeRuntime's schema subset.</summary>
    internal IReadOnlyList<int> UnknownFieldNumbers() => UnknownFields.Numbers(_unknownFields);
}

internal static class UnknownFields
{
    /// <summary>Distinct field numbers in <paramref name="set"/>, in the order they were stored.</summary>
    public static IReadOnlyList<int> Numbers(UnknownFieldSet? set)
    {
        if (set == null) return [];
        var size = set.CalculateSize();
        if (size == 0) return [];
        var bytes = new byte[size];
        var output = new CodedOutputStream(bytes);
        set.WriteTo(output);
        output.Flush();

        var numbers = new List<int>();
        var input = new CodedInputStream(bytes);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var number = WireFormat.GetTagFieldNumber(tag);
            if (!numbers.Contains(number)) numbers.Add(number);
            input.SkipLastField();
        }
        return numbers;
    }
}

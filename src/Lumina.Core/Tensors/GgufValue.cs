using System.Globalization;

namespace Lumina.Tensors;

/// <summary>The value types of GGUF metadata (the numeric ids are the format's).</summary>
internal enum GgufValueType : uint
{
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 0,
    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 1,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 2,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 3,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 4,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 5,
    /// <summary>IEEE single precision.</summary>
    Float32 = 6,
    /// <summary>A byte, 0 or 1.</summary>
    Bool = 7,
    /// <summary>UTF-8 text with a 64-bit length.</summary>
    String = 8,
    /// <summary>A typed array with a 64-bit length.</summary>
    Array = 9,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 10,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 11,
    /// <summary>IEEE double precision.</summary>
    Float64 = 12,
}

/// <summary>
/// One GGUF metadata value. <see cref="Value"/> holds the .NET value: <see cref="byte"/>, <see cref="sbyte"/>,
/// <see cref="ushort"/>, <see cref="short"/>, <see cref="uint"/>, <see cref="int"/>, <see cref="float"/>,
/// <see cref="bool"/>, <see cref="string"/>, <see cref="ulong"/>, <see cref="long"/>, <see cref="double"/>; an array
/// is a .NET array of the element type (<c>int[]</c>, <c>string[]</c>, …; nested arrays are <c>GgufValue[]</c>), so a
/// large tokenizer table costs its own size and no more.
/// </summary>
internal sealed class GgufValue
{
    internal GgufValue(GgufValueType type, object value, GgufValueType? elementType = null)
    {
        Type = type;
        Value = value;
        ElementType = elementType;
    }

    /// <summary>A STRING value.</summary>
    public static GgufValue String(string value) => new(GgufValueType.String, value ?? throw new ArgumentNullException(nameof(value)));

    /// <summary>A UINT32 value.</summary>
    public static GgufValue UInt32(uint value) => new(GgufValueType.UInt32, value);

    /// <summary>An INT32 value.</summary>
    public static GgufValue Int32(int value) => new(GgufValueType.Int32, value);

    /// <summary>A UINT64 value.</summary>
    public static GgufValue UInt64(ulong value) => new(GgufValueType.UInt64, value);

    /// <summary>A FLOAT32 value.</summary>
    public static GgufValue Float32(float value) => new(GgufValueType.Float32, value);

    /// <summary>A BOOL value.</summary>
    public static GgufValue Bool(bool value) => new(GgufValueType.Bool, value);

    /// <summary>An ARRAY of INT32 (the type of ComfyUI-GGUF's <c>comfy.gguf.orig_shape.*</c>).</summary>
    public static GgufValue Int32Array(params int[] values) => new(GgufValueType.Array, values.ToArray(), GgufValueType.Int32);

    /// <summary>An ARRAY of STRING.</summary>
    public static GgufValue StringArray(params string[] values) => new(GgufValueType.Array, values.ToArray(), GgufValueType.String);

    /// <summary>An ARRAY of ARRAY values.</summary>
    /// <exception cref="ArgumentException">An item is not an array.</exception>
    public static GgufValue ArrayOfArrays(params GgufValue[] arrays) =>
        arrays.All(a => a.Type == GgufValueType.Array)
            ? new(GgufValueType.Array, arrays.ToArray(), GgufValueType.Array)
            : throw new ArgumentException("Every item must itself be an array.", nameof(arrays));

    /// <summary>The stored type.</summary>
    public GgufValueType Type { get; }

    /// <summary>For an array, the type of its items; otherwise null.</summary>
    public GgufValueType? ElementType { get; }

    /// <summary>The value (see the type's summary for what each GGUF type becomes).</summary>
    public object Value { get; }

    /// <summary>The number of items of an array value (0 for a scalar).</summary>
    public int Count => Value is Array a ? a.Length : 0;

    /// <summary>The items of an array value, each wrapped as a <see cref="GgufValue"/> (built on each call).</summary>
    /// <exception cref="InvalidOperationException">The value is not an array.</exception>
    public IReadOnlyList<GgufValue> Items => Value switch
    {
        GgufValue[] nested => nested,
        Array a when ElementType is { } t => a.Cast<object>().Select(v => new GgufValue(t, v)).ToList(),
        _ => throw new InvalidOperationException($"The GGUF value is a {Type}, not an array."),
    };

    /// <summary>The text of a string value, or null for any other type.</summary>
    public string? AsString() => Value as string;

    /// <summary>Gets any integer value (of the eight integer types) as a <see cref="long"/>.</summary>
    /// <returns>False when the value is not an integer or is a UInt64 above <see cref="long.MaxValue"/>.</returns>
    public bool TryGetInteger(out long value) => TryInteger(Value, out value);

    /// <summary>Gets an array of integers (of any of the eight integer types) as <see cref="long"/> values.</summary>
    /// <returns>False when the value is not such an array or an item does not fit in a <see cref="long"/>.</returns>
    public bool TryGetIntegers(out long[] values)
    {
        values = [];
        if (Value is not Array a || Value is GgufValue[] || ElementType is GgufValueType.Float32 or GgufValueType.Float64
            or GgufValueType.Bool or GgufValueType.String)
            return false;
        var result = new long[a.Length];
        for (var i = 0; i < result.Length; i++)
            if (!TryInteger(a.GetValue(i)!, out result[i]))
                return false;
        values = result;
        return true;
    }

    private static bool TryInteger(object boxed, out long value)
    {
        switch (boxed)
        {
            case byte v: value = v; return true;
            case sbyte v: value = v; return true;
            case ushort v: value = v; return true;
            case short v: value = v; return true;
            case uint v: value = v; return true;
            case int v: value = v; return true;
            case long v: value = v; return true;
            case ulong v when v <= long.MaxValue: value = (long)v; return true;
            default: value = 0; return false;
        }
    }

    /// <inheritdoc />
    public override string ToString() => Value switch
    {
        Array a => $"[{ElementType} × {a.Length}]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => Value.ToString() ?? "",
    };
}

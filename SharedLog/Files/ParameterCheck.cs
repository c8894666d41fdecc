namespace SharedLog.Files;

/// <summary>
/// One set of range rules for a structure's parameters, reported two ways: for options a caller passed (an
/// <see cref="ArgumentOutOfRangeException"/> naming the option) and for a header read from a file (a
/// <see cref="SharedLogFormatException"/> naming the file and the field).
/// </summary>
internal readonly struct ParameterCheck
{
    private readonly string? _path;

    private ParameterCheck(string? path) => _path = path;

    /// <summary>Rules applied to options the caller passed.</summary>
    public static ParameterCheck ForOptions => default;

    /// <summary>Rules applied to a header read from <paramref name="path"/>.</summary>
    public static ParameterCheck ForFile(string path) => new(path);

    /// <summary>Whether the values come from a file (true) or from options (false).</summary>
    public bool IsFile => _path is not null;

    /// <summary>Throws unless <paramref name="min"/> &lt;= <paramref name="value"/> &lt;= <paramref name="max"/>.</summary>
    public void InRange(long value, long min, long max, string field)
    {
        if (value < min || value > max)
        {
            Fail(field, value, $"{min} to {max}");
        }
    }

    /// <summary>Throws with <paramref name="rule"/> unless <paramref name="ok"/>.</summary>
    public void Require(bool ok, string field, long value, string rule)
    {
        if (!ok)
        {
            Fail(field, value, rule);
        }
    }

    /// <summary>Throws: <paramref name="field"/> holds <paramref name="value"/>, which breaks <paramref name="rule"/>.</summary>
    public void Fail(string field, long value, string rule)
    {
        if (_path is null)
        {
#pragma warning disable CA2208 // The argument at fault is the caller's "options"; the message names the option.
            throw new ArgumentOutOfRangeException("options", $"{field} must be {rule}; got {value}.");
#pragma warning restore CA2208
        }

        throw new SharedLogFormatException(
            $"'{_path}' is corrupt: its header's {field} is {value}, but it must be {rule}. Delete it and create it again.");
    }

    /// <summary>
    /// For open-or-create: throws <see cref="ArgumentException"/> when an existing file's <paramref name="field"/>
    /// (<paramref name="existing"/>) contradicts what the caller's options ask for (<paramref name="requested"/>).
    /// </summary>
    public static void ThrowIfContradicts(string kindName, string path, string field, long existing, long requested)
    {
        if (existing != requested)
        {
#pragma warning disable CA2208 // The argument at fault is the caller's "options"; the message names the option.
            throw new ArgumentException(
                $"The {kindName} '{path}' exists with {field} {existing}, but the options ask for {requested}. Open it without options, pass options that match, or delete it first.",
                "options");
#pragma warning restore CA2208
        }
    }
}

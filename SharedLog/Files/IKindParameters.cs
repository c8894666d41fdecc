namespace SharedLog.Files;

/// <summary>
/// A structure's own parameters (the log's segment geometry, the ring's capacity): one record that plans them from
/// options, writes them into the header's kind line, reads and checks them back, and initialises the data.
/// </summary>
/// <typeparam name="TSelf">The parameters record.</typeparam>
internal unsafe interface IKindParameters<TSelf>
    where TSelf : IKindParameters<TSelf>
{
    /// <summary>The <see cref="Layout.FileLayout"/> kind code.</summary>
    static abstract int Kind { get; }

    /// <summary>What the kind is called in messages ("segmented log").</summary>
    static abstract string KindName { get; }

    /// <summary>Reads the kind's fields from a header whose identity is checked; throws what <paramref name="check"/> throws.</summary>
    static abstract TSelf Read(byte* header, ParameterCheck check);

    /// <summary>Bytes the structure needs after the file's data offset when it is created.</summary>
    long DataLength { get; }

    /// <summary>Whether the file may grow past the length it was created with (and open must accept it longer).</summary>
    bool MayGrow { get; }

    /// <summary>Writes the kind's fields into the header (before it is sealed).</summary>
    void Write(byte* header);

    /// <summary>Initialises the data and the hot counters of a new file (before it is linked under its name).</summary>
    void Initialise(byte* file, in FileHeader header);
}

using System.Buffers;
using System.Globalization;

namespace SharedLog.Nats;

/// <summary>
/// Maps a record to its NATS subject: a dot-separated template whose tokens may be <c>{name}</c> (the log's name) or
/// <c>{type}</c> (the record's type id), e.g. <c>sharedlog.{name}.{type}</c>.
/// </summary>
/// <remarks>
/// <c>{type}</c> must be a whole token, so one wildcard (<see cref="Filter"/>) matches every subject the bridge
/// publishes, gap markers included: that filter is how the bridge finds the last message it published. Gap markers go
/// to the template with <c>{type}</c> = <c>gap</c>, or to the single subject when the template has no <c>{type}</c>.
/// </remarks>
public sealed class SubjectTemplate
{
    /// <summary>The default template.</summary>
    public const string Default = "sharedlog.{name}.{type}";

    private const string NameToken = "{name}";
    private const string TypeToken = "{type}";
    private static readonly SearchValues<char> s_forbidden = SearchValues.Create("*> \t\r\n");
    private readonly string _prefix;
    private readonly string _suffix;
    private readonly bool _hasType;
    private readonly Dictionary<int, string> _cache = [];

    /// <summary>Parses <paramref name="template"/> for the log <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">The template is empty, has wildcards or spaces, or a misplaced placeholder.</exception>
    public SubjectTemplate(string template, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(template);
        ArgumentException.ThrowIfNullOrEmpty(name);
        Template = template;
        string[] tokens = template.Split('.');
        int typeIndex = -1;
        for (int i = 0; i < tokens.Length; i++)
        {
            string token = tokens[i];
            if (token.Length == 0 || token.AsSpan().IndexOfAny(s_forbidden) >= 0)
            {
                throw new ArgumentException($"Subject template '{template}': token {i + 1} is empty or holds a wildcard or white space.", nameof(template));
            }

            if (token == NameToken)
            {
                tokens[i] = name;
            }
            else if (token == TypeToken)
            {
                if (typeIndex >= 0)
                {
                    throw new ArgumentException($"Subject template '{template}': {TypeToken} may appear once.", nameof(template));
                }

                typeIndex = i;
            }
            else if (token.Contains('{', StringComparison.Ordinal) || token.Contains('}', StringComparison.Ordinal))
            {
                throw new ArgumentException($"Subject template '{template}': placeholders are whole tokens, {NameToken} or {TypeToken}.", nameof(template));
            }
        }

        _hasType = typeIndex >= 0;
        if (_hasType)
        {
            _prefix = string.Concat(string.Join('.', tokens[..typeIndex]), typeIndex > 0 ? "." : "");
            _suffix = string.Concat(typeIndex < tokens.Length - 1 ? "." : "", string.Join('.', tokens[(typeIndex + 1)..]));
            Filter = _prefix + "*" + _suffix;
            GapSubject = _prefix + "gap" + _suffix;
        }
        else
        {
            _prefix = string.Join('.', tokens);
            _suffix = "";
            Filter = _prefix;
            GapSubject = _prefix;
        }
    }

    /// <summary>The template as given.</summary>
    public string Template { get; }

    /// <summary>A subject filter matching every subject this template yields (and nothing else of this log's).</summary>
    public string Filter { get; }

    /// <summary>Where gap markers are published.</summary>
    public string GapSubject { get; }

    /// <summary>The subject of a record with type id <paramref name="typeId"/>.</summary>
    public string Resolve(int typeId)
    {
        if (!_hasType)
        {
            return _prefix;
        }

        if (!_cache.TryGetValue(typeId, out string? subject))
        {
            subject = _prefix + typeId.ToString(CultureInfo.InvariantCulture) + _suffix;
            if (_cache.Count < 4096)
            {
                _cache[typeId] = subject;
            }
        }

        return subject;
    }
}

namespace Mulan.Knowledge.Indexing.Keyword;

/// <summary>
/// The original Porter (1980) stemmer, as in Martin Porter's reference C implementation and Lucene's
/// <c>PorterStemFilter</c>: a light, rule-based suffix stripper for English (connected, connecting, connection
/// -> connect). Input is a lower-case ASCII word; words of one or two letters are returned unchanged.
/// </summary>
internal ref struct PorterStemmer
{
    private readonly Span<char> _b;
    private int _k;
    private int _j;

    private PorterStemmer(Span<char> word)
    {
        _b = word;
        _k = word.Length - 1;
    }

    /// <summary>Stems <paramref name="word"/> in place and returns the stem's length.</summary>
    public static int Stem(Span<char> word)
    {
        if (word.Length <= 2)
        {
            return word.Length;
        }

        var s = new PorterStemmer(word);
        s.Step1Ab();
        if (s._k > 0)
        {
            s.Step1C();
            s.Step2();
            s.Step3();
            s.Step4();
            s.Step5();
        }

        return s._k + 1;
    }

    private readonly bool IsConsonant(int i) => _b[i] switch
    {
        'a' or 'e' or 'i' or 'o' or 'u' => false,
        'y' => i == 0 || !IsConsonant(i - 1),
        _ => true,
    };

    /// <summary>The number of vowel-consonant sequences in the stem b[0..j].</summary>
    private readonly int Measure()
    {
        var n = 0;
        var i = 0;
        while (true)
        {
            if (i > _j)
            {
                return n;
            }

            if (!IsConsonant(i))
            {
                break;
            }

            i++;
        }

        i++;
        while (true)
        {
            while (true)
            {
                if (i > _j)
                {
                    return n;
                }

                if (IsConsonant(i))
                {
                    break;
                }

                i++;
            }

            i++;
            n++;
            while (true)
            {
                if (i > _j)
                {
                    return n;
                }

                if (!IsConsonant(i))
                {
                    break;
                }

                i++;
            }

            i++;
        }
    }

    private readonly bool VowelInStem()
    {
        for (var i = 0; i <= _j; i++)
        {
            if (!IsConsonant(i))
            {
                return true;
            }
        }

        return false;
    }

    private readonly bool DoubleConsonant(int j) => j >= 1 && _b[j] == _b[j - 1] && IsConsonant(j);

    /// <summary>consonant-vowel-consonant ending at i, the last consonant not w, x or y (hop, not hoy).</summary>
    private readonly bool Cvc(int i)
    {
        if (i < 2 || !IsConsonant(i) || IsConsonant(i - 1) || !IsConsonant(i - 2))
        {
            return false;
        }

        return _b[i] is not ('w' or 'x' or 'y');
    }

    private bool Ends(string s)
    {
        var length = s.Length;
        if (length > _k + 1 || !_b.Slice(_k - length + 1, length).SequenceEqual(s))
        {
            return false;
        }

        _j = _k - length;
        return true;
    }

    private void SetTo(string s)
    {
        s.CopyTo(_b[(_j + 1)..]);
        _k = _j + s.Length;
    }

    private void ReplaceIfMeasured(string s)
    {
        if (Measure() > 0)
        {
            SetTo(s);
        }
    }

    private void Step1Ab()
    {
        if (_b[_k] == 's')
        {
            if (Ends("sses"))
            {
                _k -= 2;
            }
            else if (Ends("ies"))
            {
                SetTo("i");
            }
            else if (_b[_k - 1] != 's')
            {
                _k--;
            }
        }

        if (Ends("eed"))
        {
            if (Measure() > 0)
            {
                _k--;
            }
        }
        else if ((Ends("ed") || Ends("ing")) && VowelInStem())
        {
            _k = _j;
            if (Ends("at"))
            {
                SetTo("ate");
            }
            else if (Ends("bl"))
            {
                SetTo("ble");
            }
            else if (Ends("iz"))
            {
                SetTo("ize");
            }
            else if (DoubleConsonant(_k))
            {
                if (_b[_k] is not ('l' or 's' or 'z'))
                {
                    _k--;
                }
            }
            else if (Measure() == 1 && Cvc(_k))
            {
                SetTo("e");
            }
        }
    }

    private void Step1C()
    {
        if (Ends("y") && VowelInStem())
        {
            _b[_k] = 'i';
        }
    }

    private void Step2()
    {
        if (_k < 1)
        {
            return;
        }

        var rules = _b[_k - 1] switch
        {
            'a' => Step2A,
            'c' => Step2C,
            'e' => Step2E,
            'l' => Step2L,
            'o' => Step2O,
            's' => Step2S,
            't' => Step2T,
            'g' => Step2G,
            _ => [],
        };
        ApplyFirst(rules);
    }

    private void Step3()
    {
        var rules = _b[_k] switch
        {
            'e' => Step3E,
            'i' => Step3I,
            'l' => Step3L,
            's' => Step3S,
            _ => [],
        };
        ApplyFirst(rules);
    }

    private void ApplyFirst((string Suffix, string Replacement)[] rules)
    {
        foreach (var (suffix, replacement) in rules)
        {
            if (Ends(suffix))
            {
                ReplaceIfMeasured(replacement);
                return;
            }
        }
    }

    private void Step4()
    {
        if (_k < 1)
        {
            return;
        }

        var matched = _b[_k - 1] switch
        {
            'a' => Ends("al"),
            'c' => Ends("ance") || Ends("ence"),
            'e' => Ends("er"),
            'i' => Ends("ic"),
            'l' => Ends("able") || Ends("ible"),
            'n' => Ends("ant") || Ends("ement") || Ends("ment") || Ends("ent"),
            'o' => (Ends("ion") && _j >= 0 && _b[_j] is 's' or 't') || Ends("ou"),
            's' => Ends("ism"),
            't' => Ends("ate") || Ends("iti"),
            'u' => Ends("ous"),
            'v' => Ends("ive"),
            'z' => Ends("ize"),
            _ => false,
        };
        if (matched && Measure() > 1)
        {
            _k = _j;
        }
    }

    private void Step5()
    {
        _j = _k;
        if (_b[_k] == 'e')
        {
            var m = Measure();
            if (m > 1 || (m == 1 && !Cvc(_k - 1)))
            {
                _k--;
            }
        }

        if (_b[_k] == 'l' && DoubleConsonant(_k) && Measure() > 1)
        {
            _k--;
        }
    }

    private static readonly (string, string)[] Step2A = [("ational", "ate"), ("tional", "tion")];
    private static readonly (string, string)[] Step2C = [("enci", "ence"), ("anci", "ance")];
    private static readonly (string, string)[] Step2E = [("izer", "ize")];
    private static readonly (string, string)[] Step2L = [("bli", "ble"), ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous")];
    private static readonly (string, string)[] Step2O = [("ization", "ize"), ("ation", "ate"), ("ator", "ate")];
    private static readonly (string, string)[] Step2S = [("alism", "al"), ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous")];
    private static readonly (string, string)[] Step2T = [("aliti", "al"), ("iviti", "ive"), ("biliti", "ble")];
    private static readonly (string, string)[] Step2G = [("logi", "log")];
    private static readonly (string, string)[] Step3E = [("icate", "ic"), ("ative", ""), ("alize", "al")];
    private static readonly (string, string)[] Step3I = [("iciti", "ic")];
    private static readonly (string, string)[] Step3L = [("ical", "ic"), ("ful", "")];
    private static readonly (string, string)[] Step3S = [("ness", "")];
}

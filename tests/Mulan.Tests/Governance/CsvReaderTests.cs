using Mulan.Governance.Reconciliation;

namespace Mulan.Tests.Governance;

/// <summary>The bill reader's RFC 4180 reader: what it accepts, and the line it blames when it refuses.</summary>
public sealed class CsvReaderTests
{
    /// <summary>Each record as "line: field|field|...", so whole results compare in one assertion.</summary>
    private static List<string> Read(string text) => [.. CsvReader.Read(text).Select(r => $"{r.Line}: {string.Join('|', r.Fields)}")];

    [Fact]
    public void Plain_fields_split_on_commas_and_empty_fields_are_kept()
    {
        Assert.Equal(["1: a|b|c", "2: 1||3", "3: x|"], Read("a,b,c\n1,,3\nx,\n"));
    }

    [Fact]
    public void Quoted_fields_hold_commas_doubled_quotes_and_line_breaks()
    {
        var records = Read("model,note\r\n\"fake,chat\",\"say \"\"hi\"\"\"\r\n\"multi\r\nline\",\"a\nb\"\r\nlast,x");

        // The third record's two quoted line breaks carry it over lines 3 to 5, so the next one starts on line 6.
        Assert.Equal(["1: model|note", "2: fake,chat|say \"hi\"", "3: multi\r\nline|a\nb", "6: last|x"], records);
    }

    [Theory]
    [InlineData("a,b\r\n1,2\r\n")]
    [InlineData("a,b\n1,2\n")]
    [InlineData("a,b\r1,2\r")]
    [InlineData("a,b\n1,2")]
    [InlineData("\uFEFFa,b\r\n1,2")]
    [InlineData("a,b\n\n\r\n1,2\n\n")]
    public void Line_ends_a_byte_order_mark_and_blank_lines_do_not_change_the_records(string text)
    {
        var records = Read(text);

        Assert.Equal(2, records.Count);
        Assert.EndsWith(": a|b", records[0]);
        Assert.EndsWith(": 1|2", records[1]);
    }

    [Fact]
    public void Blank_lines_are_skipped_but_still_counted()
    {
        Assert.Equal(["1: a", "4: b"], Read("a\n\r\n\nb\n"));
    }

    [Fact]
    public void A_lone_empty_quoted_field_is_a_record_not_a_blank_line()
    {
        Assert.Equal(["1: a", "2: "], Read("a\n\"\"\n"));
    }

    [Fact]
    public void Spaces_around_a_quoted_field_are_dropped_and_inside_it_kept()
    {
        Assert.Equal(["1: a| b, c |d"], Read("a,  \" b, c \"  ,d"));
    }

    [Theory]
    [InlineData("a,b\n1,\"2\n3,4\n", 2, "a quoted field is never closed")]
    [InlineData("a,b\n1,2\"3\n", 2, "a quote inside a field: quote the whole field and double the quotes in it")]
    [InlineData("a,b\n\"x\ny\"z,1\n", 3, "a quoted field must be followed by a comma or the end of the line")]
    public void Malformed_quotes_are_refused_with_their_line(string text, int line, string message)
    {
        var e = Assert.Throws<CsvFormatException>(() => CsvReader.Read(text));

        Assert.Equal(line, e.Line);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Empty_text_has_no_records()
    {
        Assert.Empty(CsvReader.Read(""));
        Assert.Empty(CsvReader.Read("\uFEFF"));
        Assert.Empty(CsvReader.Read("\r\n\n"));
    }
}

# wordfreq.pl - the perl trace's workload: count the words of its input,
# the pairs of neighbouring words, and print the most frequent of each.
use strict;
use warnings;

my (%count, %pair, @lines);
while (my $line = <STDIN>) {
    chomp $line;
    push @lines, $line if length($line) > 40;
    my @w = split /\s+/, $line;
    for my $i (0 .. $#w) {
        $count{$w[$i]}++;
        $pair{"$w[$i-1] $w[$i]"}++ if $i > 0;
    }
}
my @top = (sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count)[0 .. 19];
print "$_ $count{$_}\n" for @top;
my @toppair = (sort { $pair{$b} <=> $pair{$a} || $a cmp $b } keys %pair)[0 .. 9];
print "$_ $pair{$_}\n" for @toppair;
my $joined = join "|", map { uc } @lines[0 .. 299];
my @parts = ($joined =~ /(\w{12,})/g);
print scalar(@lines), " long lines, ", scalar(@parts), " long words\n";

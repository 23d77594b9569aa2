# workload.tcl - the tclsh trace's workload: lists, dicts and strings built,
# sorted and taken apart, from a linear congruential generator (fixed seed).
set x 12345
proc rnd {n} {
    global x
    set x [expr {($x * 1103515245 + 12345) & 0x7fffffff}]
    return [expr {($x >> 16) % $n}]
}
set syll {ka lo mi nu pe ra si to va ze bri cha dro fle gru}
proc word {} {
    global syll
    set w ""
    for {set i [rnd 4]} {$i >= 0} {incr i -1} { append w [lindex $syll [rnd 15]] }
    return $w
}
set d [dict create]
set l {}
for {set i 0} {$i < 6000} {incr i} {
    set w [word]
    dict incr d $w
    lappend l [list $w [rnd 1000] [string repeat [word] [expr {1 + [rnd 3]}]]]
    if {[llength $l] > 2500} { set l [lrange $l 500 end] }
}
set sorted [lsort -integer -index 1 $l]
set s [join [lmap e $sorted {lindex $e 2}] ","]
set parts [split $s ","]
set top [lrange [lsort -stride 2 -integer -index 1 -decreasing [dict get $d]] 0 19]
puts "[dict size $d] words, [llength $parts] parts, [string length $s] chars: $top"

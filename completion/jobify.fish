# SPDX-License-Identifier: ISC
# fish completion for jobify(1): commands and options from jobify's own
# --help, route names from `jobify routes`, job ids from `jobify jobs
# --all` (with the -c and --state-dir of the line), zones for --tz.

# The line's jobify, with its -c and --state-dir.
function __jobify_run
    set -l words (commandline -opc)
    set -l global
    set -l i 2
    while test $i -le (count $words)
        switch $words[$i]
            case -c --config --state-dir
                if test $i -lt (count $words)
                    set global $global $words[$i] $words[(math $i + 1)]
                end
                set i (math $i + 1)
            case '--config=*' '--state-dir=*'
                set global $global $words[$i]
        end
        set i (math $i + 1)
    end
    $words[1] $global $argv 2>/dev/null
end

# The command of the line, or nothing.
function __jobify_cmd
    set -l words (commandline -opc)
    set -l skip 0
    for w in $words[2..-1]
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case -c --config --state-dir
                set skip 1
            case '-*'
            case '*'
                echo $w
                return
        end
    end
end

function __jobify_no_cmd
    test -z (__jobify_cmd)
end

function __jobify_cmd_is
    contains -- (__jobify_cmd) $argv
end

function __jobify_commands
    __jobify_run --help | string match -r '^  ([a-z-]+) +(.*)$' -g | paste - - | string replace \t \t
end

function __jobify_routes
    __jobify_run routes $argv | string replace -r '\t.*' ''
end

function __jobify_jobs
    __jobify_run jobs --all | string replace -r '\t.*' ''
end

function __jobify_options
    set -l cmd (__jobify_cmd)
    __jobify_run $cmd --help | string match -ra -- '--[a-z][a-z-]*' | sort -u
end

function __jobify_zones
    if test -r /usr/share/zoneinfo/tzdata.zi
        awk '$1 == "Z" { print $2 } $1 == "L" { print $3 }' /usr/share/zoneinfo/tzdata.zi
    else
        echo UTC
    end
end

complete -c jobify -f
complete -c jobify -n __jobify_no_cmd -a '(__jobify_commands)'
complete -c jobify -s c -l config -r -F -d 'config file'
complete -c jobify -l state-dir -r -a '(__fish_complete_directories)' -d 'state directory'
complete -c jobify -s v -l verbose -d 'say more'
complete -c jobify -s q -l quiet -d 'say less'
complete -c jobify -s h -l help -d help
complete -c jobify -n 'not __jobify_no_cmd' -a '(__jobify_options)' -n 'string match -q -- "-*" (commandline -ct)'
complete -c jobify -n '__jobify_cmd_is exec schedule next history' -a '(__jobify_routes)'
complete -c jobify -n '__jobify_cmd_is status logs wait cancel' -a '(__jobify_jobs)'
complete -c jobify -l tz -x -a '(__jobify_zones)' -d 'time zone'
complete -c jobify -l route -x -a '(__jobify_routes --all)' -d route
complete -c jobify -l status -x -a 'scheduled running success failed timeout cancelled skipped permanently-failed'
complete -c jobify -l log-format -x -a 'logfmt json'

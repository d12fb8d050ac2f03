#!/usr/bin/env bash
# icoFoam (OpenFOAM) on the lid-driven cavity, to steady state, for the side-by-side comparison with
# fluxion's navier_stokes app (issue 7). Writes the case, runs it, extracts the centreline profiles,
# measures the solver's CPU time and computes the deviation from Ghia et al. (1982).
#
#   bench/openfoam_cavity.sh --re 100 --n 128 [--dir DIR] [--tol 1e-4] [--chunk 0.5] [--co 0.5]
#                            [--max-time 300]
#
# Needs OpenFOAM, which this script does not install. On Debian 12: `apt-get install openfoam`
# (OpenFOAM v1912 from the Debian archive; only a benchmark dependency, no test needs it). Debian
# puts the binaries (icoFoam, blockMesh, ...) straight into /usr/bin and the environment script at
# /usr/share/openfoam/etc/bashrc, which sets WM_PROJECT_DIR=/usr/share/openfoam; the solvers need
# that variable to find etc/controlDict ("Could not find mandatory etc entry 'controlDict'" without
# it). This script sources that bashrc (its complaints about the missing bin/foamEtcFile of the
# Debian layout are harmless and are discarded); set OPENFOAM_BASHRC to use another installation,
# e.g. /usr/lib/openfoam/openfoam2312/etc/bashrc of the openfoam.com packages.
#
# The case is OpenFOAM's own tutorial incompressible/icoFoam/cavity/cavity (same boundary patches,
# schemes: Euler in time, Gauss linear for convection and diffusion; PISO with 2 correctors; PCG/DIC
# for p, symGaussSeidel for U) changed to our problem: the unit square (scale 1, not 0.1), an N x N x 1
# uniform mesh, lid speed 1, nu = 1/Re, and a fixed time step dt = co / N (Courant number co based
# on the lid speed; 0.5 by default).
#
# Steady state: icoFoam is transient, so it runs in chunks of `chunk` time units (restarting from the
# latest time; each chunk writes the full fields in ASCII). After each chunk the script computes
#     r = max over cells |U(t) - U(t - chunk)| / (chunk * U_lid)
# the relative change of the velocity field per unit time, and stops once r < tol (default 1e-4).
# The first chunk boundary t_s where that holds is the steady time. Then a fresh copy of the case runs
# from rest to t_s in ONE icoFoam process (writing only at the end), and the CPU time reported is
# user + sys of that process from /usr/bin/time (blockMesh, the chunked search, field reading and
# profile extraction are not counted; the chunked total is recorded too, as cpu_chunked_s). The
# profiles are taken from the timed run's final field (equal to the chunked one to about 1e-7).
#
# Output in DIR (default /tmp/fluxion-openfoam/cavity_re<Re>_n<N>; keep case output out of the repo):
#   profile_u.csv, profile_v.csv   u(y) on x = 0.5 and v(x) on y = 0.5 at the final time
#   deviation.json                 bench/cavity_reference.py's result against Ghia
#   result.json                    Re, N, dt, t_s, steps, chunks, final r, CPU seconds, deviation
#   log.icoFoam.*                  solver logs of the chunks; timed/ the timed run (log.icoFoam)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY=/usr/bin/python3

re_number=100
n=128
dir=""
tol=1e-4
chunk=0.5
co=0.5
max_time=300

while [ $# -gt 0 ]; do
  case "$1" in
    --re) re_number="$2"; shift 2 ;;
    --n) n="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --tol) tol="$2"; shift 2 ;;
    --chunk) chunk="$2"; shift 2 ;;
    --co) co="$2"; shift 2 ;;
    --max-time) max_time="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "openfoam_cavity.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$dir" ] || dir="/tmp/fluxion-openfoam/cavity_re${re_number}_n${n}"

# --- OpenFOAM environment -------------------------------------------------------------------------
bashrc="${OPENFOAM_BASHRC:-/usr/share/openfoam/etc/bashrc}"
if [ ! -f "$bashrc" ]; then
  echo "openfoam_cavity.sh: $bashrc not found. Install OpenFOAM (Debian 12: apt-get install openfoam)" \
       "or set OPENFOAM_BASHRC to your installation's etc/bashrc." >&2
  exit 3
fi
set +eu
# shellcheck disable=SC1090
source "$bashrc" >/dev/null 2>&1
set -eu
for tool in blockMesh icoFoam; do
  command -v "$tool" >/dev/null || { echo "openfoam_cavity.sh: $tool not on PATH after sourcing $bashrc" >&2; exit 3; }
done
[ -x /usr/bin/time ] || { echo "openfoam_cavity.sh: /usr/bin/time is needed (apt-get install time)" >&2; exit 3; }

# --- the case -------------------------------------------------------------------------------------
read -r nu dt steps_per_chunk < <($PY -c "
n=$n; co=$co; chunk=$chunk
dt = co / n
spc = round(chunk / dt)
assert abs(spc * dt - chunk) < 1e-9 * chunk, 'chunk must be a whole number of time steps'
print(repr(1.0 / $re_number), repr(dt), spc)")

rm -rf "$dir"
mkdir -p "$dir/0" "$dir/constant" "$dir/system"
header() { # class object
  cat <<EOF
FoamFile
{
    version     2.0;
    format      ascii;
    class       $1;
    object      $2;
}
EOF
}
{ header dictionary blockMeshDict; cat <<EOF
scale   1;
vertices ((0 0 0) (1 0 0) (1 1 0) (0 1 0) (0 0 0.1) (1 0 0.1) (1 1 0.1) (0 1 0.1));
blocks (hex (0 1 2 3 4 5 6 7) ($n $n 1) simpleGrading (1 1 1));
edges ();
boundary
(
    movingWall { type wall; faces ((3 7 6 2)); }
    fixedWalls { type wall; faces ((0 4 7 3) (2 6 5 1) (1 5 4 0)); }
    frontAndBack { type empty; faces ((0 3 2 1) (4 5 6 7)); }
);
mergePatchPairs ();
EOF
} > "$dir/system/blockMeshDict"
{ header dictionary controlDict; cat <<EOF
application     icoFoam;
startFrom       latestTime;
startTime       0;
stopAt          endTime;
endTime         $chunk;
deltaT          $dt;
writeControl    timeStep;
writeInterval   $steps_per_chunk;
purgeWrite      0;
writeFormat     ascii;
writePrecision  12;
writeCompression off;
timeFormat      general;
timePrecision   8;
runTimeModifiable false;
EOF
} > "$dir/system/controlDict"
{ header dictionary fvSchemes; cat <<'EOF'
ddtSchemes { default Euler; }
gradSchemes { default Gauss linear; grad(p) Gauss linear; }
divSchemes { default none; div(phi,U) Gauss linear; }
laplacianSchemes { default Gauss linear orthogonal; }
interpolationSchemes { default linear; }
snGradSchemes { default orthogonal; }
EOF
} > "$dir/system/fvSchemes"
{ header dictionary fvSolution; cat <<'EOF'
solvers
{
    p { solver PCG; preconditioner DIC; tolerance 1e-06; relTol 0.05; }
    pFinal { $p; relTol 0; }
    U { solver smoothSolver; smoother symGaussSeidel; tolerance 1e-05; relTol 0; }
}
PISO { nCorrectors 2; nNonOrthogonalCorrectors 0; pRefCell 0; pRefValue 0; }
EOF
} > "$dir/system/fvSolution"
{ header dictionary transportProperties; echo "nu              $nu;"; } > "$dir/constant/transportProperties"
{ header volVectorField U; cat <<'EOF'
dimensions      [0 1 -1 0 0 0 0];
internalField   uniform (0 0 0);
boundaryField
{
    movingWall { type fixedValue; value uniform (1 0 0); }
    fixedWalls { type noSlip; }
    frontAndBack { type empty; }
}
EOF
} > "$dir/0/U"
{ header volScalarField p; cat <<'EOF'
dimensions      [0 2 -2 0 0 0 0];
internalField   uniform 0;
boundaryField
{
    movingWall { type zeroGradient; }
    fixedWalls { type zeroGradient; }
    frontAndBack { type empty; }
}
EOF
} > "$dir/0/p"

(cd "$dir" && blockMesh > log.blockMesh 2>&1) || { echo "blockMesh failed: $dir/log.blockMesh" >&2; exit 1; }

# --- run to steady state --------------------------------------------------------------------------
cpu_user=0
cpu_sys=0
wall=0
k=0
prev="0"
older=""
rate=""
converged=false
timename() { $PY -c "print('%.8g' % ($1))"; }
echo "icoFoam cavity Re $re_number, ${n}x${n}, dt $dt, chunks of $chunk (${steps_per_chunk} steps), stop when max|dU|/chunk < $tol"
while :; do
  k=$((k + 1))
  end=$(timename "$k * $chunk")
  sed -i "s/^endTime .*/endTime         $end;/" "$dir/system/controlDict"
  (cd "$dir" && /usr/bin/time -f "%U %S %e" -o time.chunk icoFoam > "log.icoFoam.$k" 2>&1) \
    || { echo "icoFoam failed: $dir/log.icoFoam.$k" >&2; exit 1; }
  read -r u s e < "$dir/time.chunk"
  read -r cpu_user cpu_sys wall < <($PY -c "print($cpu_user + $u, $cpu_sys + $s, $wall + $e)")
  [ -d "$dir/$end" ] || { echo "icoFoam wrote no time $end in $dir" >&2; exit 1; }
  if [ "$prev" != "0" ]; then
    change=$($PY "$here/openfoam/foam_cavity.py" change "$dir" "$prev" "$end")
    rate=$($PY -c "print('%.3e' % ($change / $chunk))")
    if $PY -c "import sys; sys.exit(0 if $change / $chunk < $tol else 1)"; then
      converged=true
    fi
  fi
  printf '  t = %-8s cpu %7.2f s  change/unit time %s\n' "$end" "$($PY -c "print($cpu_user + $cpu_sys)")" "${rate:--}"
  # keep only the last two times (the change needs both)
  if [ -n "$older" ] && [ "$older" != "0" ]; then rm -rf "${dir:?}/$older"; fi
  older="$prev"
  prev="$end"
  $converged && break
  if $PY -c "import sys; sys.exit(0 if $k * $chunk >= $max_time else 1)"; then
    echo "openfoam_cavity.sh: not steady (change $rate per unit time >= $tol) by t = $max_time" >&2
    break
  fi
done

# --- the timed run -------------------------------------------------------------------------------
# The chunked run above only finds the steady time t_s (restarting costs CPU that a single run does
# not pay). The CPU time reported is that of one uninterrupted icoFoam run from rest to t_s, in a
# fresh copy of the case that writes the fields only at the end.
t_s="$prev"
chunk_cpu=$($PY -c "print($cpu_user + $cpu_sys)")
steps=$($PY -c "print(round($t_s / $dt))")
timed="$dir/timed"
rm -rf "$timed"
mkdir -p "$timed"
cp -r "$dir/0" "$dir/constant" "$dir/system" "$timed/"
sed -i -e "s/^endTime .*/endTime         $t_s;/" -e "s/^writeInterval .*/writeInterval   $steps;/" \
  -e "s/^startFrom .*/startFrom       startTime;/" "$timed/system/controlDict"
(cd "$timed" && /usr/bin/time -f "%U %S %e" -o time.run icoFoam > log.icoFoam 2>&1) \
  || { echo "icoFoam failed: $timed/log.icoFoam" >&2; exit 1; }
read -r cpu_user cpu_sys wall < "$timed/time.run"
[ -d "$timed/$t_s" ] || { echo "the timed run wrote no time $t_s in $timed" >&2; exit 1; }
same=$($PY "$here/openfoam/foam_cavity.py" change "$dir" "$t_s" "timed/$t_s")
echo "timed run to t = $t_s ($steps steps): cpu $($PY -c "print('%.2f' % ($cpu_user + $cpu_sys))") s" \
     "(user $cpu_user, sys $cpu_sys); max |U_timed - U_chunked| = $same"

# --- profiles, deviation, result ------------------------------------------------------------------
$PY "$here/openfoam/foam_cavity.py" profiles "$dir" "timed/$t_s" "$n" "$dir/profile_u.csv" "$dir/profile_v.csv"
dev_line=$($PY "$here/cavity_reference.py" deviation --re "$re_number" \
  --u-csv "$dir/profile_u.csv" --v-csv "$dir/profile_v.csv" --json "$dir/deviation.json")
echo "$dev_line"
$PY - "$dir" <<EOF
import json, sys
d = json.load(open(sys.argv[1] + "/deviation.json"))
res = {
  "solver": "icoFoam", "openfoam": "v1912 (Debian package openfoam)", "re": $re_number, "n": $n,
  "dt": $dt, "courant_lid": $co, "end_time": $t_s, "steps": $steps, "chunks": $k,
  "steady_criterion": "max|U(t)-U(t-$chunk)| / ($chunk U_lid) < $tol", "final_change_rate": float("${rate:-nan}"),
  "converged": "$converged" == "true",
  "cpu_user_s": $cpu_user, "cpu_sys_s": $cpu_sys, "cpu_s": $cpu_user + $cpu_sys, "wall_s": $wall,
  "cpu_chunked_s": $chunk_cpu, "max_diff_timed_vs_chunked": $same,
  "max_dev": d["max_dev"], "max_dev_all": d["max_dev_all"], "max_dev_u": d["max_dev_u"],
  "max_dev_v": d["max_dev_v"], "worst": d["worst"],
}
json.dump(res, open(sys.argv[1] + "/result.json", "w"), indent=1)
print("result:", sys.argv[1] + "/result.json", "cpu %.2f s" % res["cpu_s"])
EOF
$converged || exit 4

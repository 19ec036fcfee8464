param([Parameter(Mandatory)][string]$PayloadB64)
. (Join-Path $PSScriptRoot '_Common.ps1')
Invoke-RunbookScript $PayloadB64 {
    param($p)
    Remove-ADServiceAccount -Identity ([guid][string]$p.objectGuid) -Server $p.dc -Confirm:$false
    $true
}

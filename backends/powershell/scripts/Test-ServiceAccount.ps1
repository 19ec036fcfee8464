# Test-ADServiceAccount on the host: can it retrieve the password now? (Same-domain gMSAs only.)
param([Parameter(Mandatory)][string]$PayloadB64)
. (Join-Path $PSScriptRoot '_Common.ps1')
Invoke-RunbookScript $PayloadB64 {
    param($p)
    Invoke-Command -ComputerName ([string]$p.host) -ArgumentList ([string]$p.gmsaName) -ScriptBlock {
        param($name)
        [bool](Test-ADServiceAccount -Identity $name -WarningAction SilentlyContinue)
    }
}

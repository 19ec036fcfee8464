# Sync-ADObject: replicate one object from the pinned DC to another now, instead of waiting for the schedule.
param([Parameter(Mandatory)][string]$PayloadB64)
. (Join-Path $PSScriptRoot '_Common.ps1')
Invoke-RunbookScript $PayloadB64 {
    param($p)
    $object = Get-ADObject -Identity ([guid][string]$p.objectGuid) -Server $p.sourceDc
    Sync-ADObject -Object $object.DistinguishedName -Source $p.sourceDc -Destination $p.destinationDc
    $true
}
